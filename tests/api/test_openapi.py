"""The OpenAPI document and the docs page, which must load nothing from outside."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_openapi_json_lists_the_paths(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "pingan API"
    assert schema["info"]["version"] == "1"
    assert {
        "/api/v1/auth/token",
        "/api/v1/auth/revoke",
        "/api/v1/me",
        "/api/v1/villages",
        "/api/v1/villages/{village_id}",
        "/api/v1/problems",
        "/api/v1/problems/{problem_id}",
        "/api/v1/problems/{problem_id}/actions",
        "/api/v1/notifications",
        "/api/v1/notifications/read",
    } <= set(schema["paths"])
    problems = schema["paths"]["/api/v1/problems"]
    assert set(problems) == {"get", "post"}
    assert set(problems["post"]["responses"]) >= {"201", "403", "422"}
    act = schema["paths"]["/api/v1/problems/{problem_id}/actions"]["post"]
    assert set(act["responses"]) >= {"200", "403", "404", "409", "422"}
    action_in = schema["components"]["schemas"]["ActionIn"]
    assert set(action_in["required"]) == {"action", "version"}
    assert "feedback" in action_in["properties"]["action"]["enum"]
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert "ErrorOut" in schema["components"]["schemas"]
    token = schema["paths"]["/api/v1/auth/token"]["post"]
    assert "security" not in token
    assert set(token["responses"]) >= {"200", "401", "422"}


def test_docs_page_uses_local_assets_only(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "docs page must not use a CDN"
    assets = re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset), asset
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert '"validatorUrl": null' in html
