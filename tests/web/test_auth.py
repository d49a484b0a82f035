"""Login, logout and the forced change of a one-time initial password."""

from django.urls import reverse

from pingan.accounts.models import Role
from tests.factories import make_user


def test_login_page_is_chinese(client, db):
    html = client.get(reverse("web:login")).content.decode()
    assert "用户名" in html
    assert "密码" in html
    assert "千家万户访平安" in html


def test_login_then_home(world, client):
    response = client.post(
        reverse("web:login"), {"username": "town", "password": "pass-word-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("web:town", args=[world.town.pk])
    assert response.status_code == 200


def test_login_with_wrong_password(world, client):
    response = client.post(reverse("web:login"), {"username": "town", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_home_needs_login(client, db):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("web:login"))


def test_logout_is_post_only(world, login):
    client = login(world.users[Role.TOWN_ADMIN])
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert response.url == reverse("web:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_initial_password_must_be_changed_first(world, client):
    user = make_user(
        Role.VILLAGE_ADMIN, world.qiying, username="new-admin", must_change_password=True
    )
    client.force_login(user)

    for url in (reverse("web:home"), reverse("web:village", args=[world.qiying.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == reverse("web:password_change")
    assert "初始密码" in client.get(reverse("web:password_change")).content.decode()

    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": "pass-word-123",
            "new_password1": "Qiying-2021-safe",
            "new_password2": "Qiying-2021-safe",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("web:home")
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.check_password("Qiying-2021-safe")
    # Still signed in (the session hash was updated), and free to go anywhere in scope.
    assert client.get(reverse("web:village", args=[world.qiying.pk])).status_code == 200


def test_password_change_rejects_a_wrong_old_password(world, client):
    user = make_user(Role.TOWN_ADMIN, world.town, username="forgetful", must_change_password=True)
    client.force_login(user)
    response = client.post(
        reverse("web:password_change"),
        {"old_password": "wrong", "new_password1": "Ruji-2021-x", "new_password2": "Ruji-2021-x"},
    )
    assert response.status_code == 200
    assert "原密码不正确" in response.content.decode()
    user.refresh_from_db()
    assert user.must_change_password
