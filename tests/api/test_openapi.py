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


# Issue 12: concerns, triage, talks and the reporting households of a problem.
ISSUE_12_OPERATIONS = {
    ("/api/v1/concerns", "get"): {"200", "401", "422"},
    ("/api/v1/concerns", "post"): {"200", "201", "401", "403", "409", "422"},
    ("/api/v1/concerns/{concern_id}", "get"): {"200", "401", "404"},
    ("/api/v1/concerns/triage", "post"): {"200", "401", "403", "422"},
    ("/api/v1/talks", "get"): {"200", "401", "422"},
    ("/api/v1/talks/{talk_id}", "post"): {"200", "401", "403", "404", "422"},
    ("/api/v1/problems/{problem_id}/reporters", "get"): {"200", "401", "404", "422"},
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"].get("$ref", "")


def test_openapi_documents_concerns_triage_talks_and_reporters(client):
    schema = client.get("/api/v1/openapi.json").json()

    for (path, method), statuses in ISSUE_12_OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert set(operation["responses"]) == statuses, (path, method)
        assert CJK.search(operation["summary"]), (path, method)
        for status in statuses - {"200", "201"}:
            assert _ref(operation["responses"][status]) == "#/components/schemas/ErrorOut"
        assert operation["security"], (path, method)  # a signed-in caller only
    components = schema["components"]["schemas"]
    ok = {
        ("/api/v1/concerns/{concern_id}", "get"): "ConcernDetailOut",
        ("/api/v1/concerns/triage", "post"): "TriageOut",
        ("/api/v1/talks/{talk_id}", "post"): "TalkOut",
    }
    for (path, method), name in ok.items():
        assert _ref(schema["paths"][path][method]["responses"]["200"]) == (
            f"#/components/schemas/{name}"
        )
    # The triage rule is written out for the client: the batch limit, each decision on its
    # own, a stale version refused as 409 for that decision only.
    triage = schema["paths"]["/api/v1/concerns/triage"]["post"]
    for words in ("200 条", "version", "409", "duplicate", "refused", "403"):
        assert words in triage["description"], words
    decisions = components["TriageIn"]["properties"]["decisions"]
    assert decisions["maxItems"] == 200
    assert set(decisions["items"]["required"]) == {"concern_id", "version", "outcome"}
    assert decisions["items"]["properties"]["outcome"]["enum"] == [
        "file", "merge", "talk", "decline",
    ]  # fmt: skip
    result = components["TriageResultOut"]["properties"]
    assert set(result) == {
        "concern_id", "status", "http_status", "detail", "field", "outcome", "problem_id",
        "problem_code", "thought_work_id",
    }  # fmt: skip
    assert result["status"]["enum"] == ["done", "duplicate", "refused"]
    assert "client_key" in components["ConcernReportIn"]["properties"]
    assert components["ConcernReportIn"]["properties"]["source"]["enum"] == ["phone", "walk_in"]
    assert "suggestion" in components["ConcernDetailOut"]["properties"]
    assert "reporters_waiting" in components["ProblemOut"]["properties"]
    assert set(components["TalkRecordIn"]["properties"]["view"]["enum"]) == {
        "changed", "unchanged",
    }  # fmt: skip
    assert "reporter_id" in components["ActionIn"]["properties"]
