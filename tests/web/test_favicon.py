"""The favicon: /favicon.ico answers (browsers ask for it by themselves) and every layout links
the icon, so no page makes the browser ask for a missing file."""

import struct

from django.urls import reverse

from pingan.accounts.models import Role

ICON_LINKS = (
    '<link rel="icon" href="/favicon.ico"',
    '<link rel="icon" href="/static/web/favicon.svg"',
)


def test_favicon_ico_is_an_icon(db, client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age" in response["Cache-Control"]
    reserved, kind, count = struct.unpack("<HHH", response.content[:6])
    assert (reserved, kind) == (0, 1)  # an ICO file
    sizes = {response.content[6 + 16 * n] for n in range(count)}
    assert sizes == {16, 32}


def test_the_svg_icon_is_served_as_a_static_file(db, client):
    response = client.get("/static/web/favicon.svg")
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)


def test_every_layout_links_the_icon(world, field, client):
    pages = [client.get(reverse("web:login"))]  # web layout, signed out
    client.force_login(world.users[Role.CADRE])
    pages.append(client.get(reverse("field:households")))  # field layout
    pages.append(client.get("/no/such/page/"))  # an error page
    for response in pages:
        html = response.content.decode()
        for link in ICON_LINKS:
            assert link in html, (response.request["PATH_INFO"], link)
