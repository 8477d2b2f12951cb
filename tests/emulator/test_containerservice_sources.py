"""ModelSources over HTTP: synchronous CRUD with ETags, the immutable sourceType, validation, and
the write-only inline credential."""

# ruff: noqa: F811  (pytest fixtures imported from containerservice_harness are used as arguments)
from __future__ import annotations

import json

import pytest
from containerservice_harness import cs, error_code, served  # noqa: F401

SECRET = "hf_SuperSecretToken123"
HF = {
    "properties": {
        "sourceType": "HuggingFace",
        "description": "private org",
        "credential": {"inline": {"value": SECRET}},
    }
}
IDENTITY = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
    "userAssignedIdentities/puller"
)
PROJECT = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a/projects/p"
)
FOUNDRY = {
    "properties": {
        "sourceType": "MicrosoftFoundry",
        "credential": {"managedIdentity": {"resourceId": IDENTITY}},
        "microsoftFoundry": {"projectResourceId": PROJECT},
    }
}


def test_put_creates_then_replaces_with_a_new_etag(cs):
    created = cs.client.put(cs.source("hf"), json=HF)
    replaced = cs.client.put(cs.source("hf"), json={"properties": {"sourceType": "HuggingFace"}})
    assert created.status_code == 201 and replaced.status_code == 200
    assert created.json()["eTag"] != replaced.json()["eTag"]
    assert replaced.headers["ETag"] == replaced.json()["eTag"]
    assert created.json()["properties"]["provisioningState"] == "Succeeded"
    assert created.json()["type"] == "Microsoft.ContainerService/aiManagers/modelSources"
    # Full replace: what the second PUT omitted is gone.
    assert "description" not in replaced.json()["properties"]
    assert "credential" not in replaced.json()["properties"]


def test_the_inline_credential_is_never_returned(cs):
    answers = [
        cs.client.put(cs.source("hf"), json=HF),
        cs.client.get(cs.source("hf")),
        cs.client.patch(cs.source("hf"), json={"properties": {"description": "x"}}),
        cs.client.get(f"{cs.manager}/modelSources"),
    ]
    for answer in answers:
        assert SECRET not in answer.text
    assert answers[1].json()["properties"]["credential"] == {"inline": {}}
    stored = json.dumps(cs.emu.store.list("cs.modelSources"))
    assert SECRET not in stored


def test_errors_never_quote_the_credential(cs):
    body = {"properties": {"sourceType": "HuggingFace", "credential": SECRET}}
    response = cs.client.put(cs.source("hf"), json=body)
    assert (response.status_code, error_code(response)) == (400, "InvalidParameter")
    assert SECRET not in response.text


def test_source_type_is_immutable(cs):
    cs.client.put(cs.source("src"), json=HF)
    by_put = cs.client.put(cs.source("src"), json=FOUNDRY)
    by_patch = cs.client.patch(
        cs.source("src"), json={"properties": {"sourceType": "MicrosoftFoundry"}}
    )
    for response in (by_put, by_patch):
        assert (response.status_code, error_code(response)) == (400, "ImmutableField")
        assert "sourceType" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "properties", id="no-properties"),
        pytest.param({"properties": {}}, "sourceType", id="no-source-type"),
        pytest.param({"properties": {"sourceType": "S3"}}, "sourceType", id="unknown-source-type"),
        pytest.param(
            {"properties": {"sourceType": "HuggingFace", "credential": {"inline": {}}}},
            "credential.inline.value",
            id="inline-without-value",
        ),
        pytest.param(
            {"properties": {"sourceType": "HuggingFace", "credential": {}}},
            "credential",
            id="empty-credential",
        ),
        pytest.param(
            {
                "properties": {
                    "sourceType": "HuggingFace",
                    "credential": {"managedIdentity": {"resourceId": IDENTITY}},
                }
            },
            "managed identity",
            id="hugging-face-with-identity",
        ),
        pytest.param(
            {
                "properties": {
                    "sourceType": "MicrosoftFoundry",
                    "credential": {"managedIdentity": {"resourceId": IDENTITY}},
                }
            },
            "microsoftFoundry",
            id="foundry-without-project",
        ),
        pytest.param(
            {"properties": {"sourceType": "HuggingFace", "description": 5}},
            "description",
            id="description-not-a-string",
        ),
    ],
)
def test_invalid_bodies_are_400_invalid_parameter(cs, body, field):
    response = cs.client.put(cs.source("bad"), json=body)
    assert (response.status_code, error_code(response)) == (400, "InvalidParameter")
    assert field in response.json()["error"]["message"]


def test_a_foundry_source_with_a_managed_identity(cs):
    response = cs.client.put(cs.source("foundry"), json=FOUNDRY)
    assert response.status_code == 201
    assert response.json()["properties"]["credential"] == FOUNDRY["properties"]["credential"]


def test_invalid_names_are_rejected(cs):
    response = cs.client.put(cs.source("Bad_Name"), json=HF)
    assert (response.status_code, error_code(response)) == (400, "InvalidResourceName")


def test_patch_merges_and_keeps_the_credential(cs):
    cs.client.put(cs.source("hf"), json=HF)
    patched = cs.client.patch(cs.source("hf"), json={"properties": {"description": "new"}})
    assert patched.status_code == 200
    assert patched.json()["properties"]["description"] == "new"
    assert patched.json()["properties"]["credential"] == {"inline": {}}
    [stored] = cs.emu.store.list("cs.modelSources", cs.sub + "/")
    assert stored["_credentialSha256"]


def test_patch_of_a_missing_source_is_404(cs):
    response = cs.client.patch(cs.source("nope"), json={"properties": {"description": "x"}})
    assert (response.status_code, error_code(response)) == (404, "ResourceNotFound")


def test_if_match_and_if_none_match(cs):
    etag = cs.client.put(cs.source("hf"), json=HF).json()["eTag"]
    stale = cs.client.put(cs.source("hf"), json=HF, headers={"If-Match": '"stale"'})
    fresh = cs.client.put(cs.source("hf"), json=HF, headers={"If-Match": etag})
    exists = cs.client.put(cs.source("hf"), json=HF, headers={"If-None-Match": "*"})
    missing = cs.client.put(cs.source("other"), json=HF, headers={"If-Match": "*"})
    patch = cs.client.patch(cs.source("hf"), json={"properties": {}}, headers={"If-Match": etag})
    assert (stale.status_code, error_code(stale)) == (412, "PreconditionFailed")
    assert fresh.status_code == 200
    assert (exists.status_code, missing.status_code, patch.status_code) == (412, 412, 412)


def test_delete_answers_200_then_204(cs):
    cs.client.put(cs.source("hf"), json=HF)
    first = cs.client.delete(cs.source("hf"))
    second = cs.client.delete(cs.source("hf"))
    gone = cs.client.get(cs.source("hf"))
    assert (first.status_code, second.status_code) == (200, 204)
    assert (gone.status_code, error_code(gone)) == (404, "ResourceNotFound")


def test_delete_honours_if_match(cs):
    cs.client.put(cs.source("hf"), json=HF)
    response = cs.client.delete(cs.source("hf"), headers={"If-Match": '"stale"'})
    assert response.status_code == 412
    assert cs.client.get(cs.source("hf")).status_code == 200


def test_list_by_ai_manager(cs):
    for name in ("b", "a", "c"):
        cs.client.put(cs.source(name), json=HF)
    listed = cs.client.get(f"{cs.manager}/modelSources").json()
    assert [s["name"] for s in listed["value"]] == ["a", "b", "c"]
    assert "nextLink" not in listed


def test_a_source_in_use_cannot_be_deleted(cs):
    cs.client.put(cs.source("hf"), json=HF)
    cs.create_deployment("uses-it", modelSourceResourceId=cs.source("hf"))
    response = cs.client.delete(cs.source("hf"))
    assert (response.status_code, error_code(response)) == (409, "ModelSourceInUse")


def test_sources_under_a_missing_ai_manager_are_404(cs):
    response = cs.client.put(cs.source("hf").replace("/aim/", "/nope/"), json=HF)
    assert (response.status_code, error_code(response)) == (404, "ParentResourceNotFound")
