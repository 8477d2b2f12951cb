"""Pre-flight of gated catalog models: a ModelDeployment of a model whose license needs a
credential, without a ModelSource that has one, is an error in the plan naming the fix (what
apply would otherwise meet: ModelSourceRequired, or ModelAccessDenied after the create); a
ModelSource that does not exist is one too. Pure checks, then over HTTP against the emulator."""

from __future__ import annotations

import httpx
import pytest
from preflight_support import RG, SUB, change, model_deployment, only_errors, preflight

from aimodels.errors import Severity
from aimodels.plan.preflight_gated import GatedRequest, SourceState, check_gated

A100 = "Standard_NC24ads_A100_v4"
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
CS = "2026-08-02-preview"


def request(state: SourceState, restricted: bool | None = True, source: str | None = "hf",
            declared: bool = False) -> GatedRequest:
    return GatedRequest("ModelDeployment/llama", LLAMA, restricted, "llama3.1", source, state,
                        "quickstart", declared)


@pytest.mark.parametrize(("gated", "summary", "path"), [
    pytest.param(request(SourceState.NONE, source=None),
                 f"{LLAMA} is gated (license llama3.1): it needs a ModelSource with a credential",
                 "spec.model.catalog", id="no-source"),
    pytest.param(request(SourceState.NO_CREDENTIAL),
                 f"{LLAMA} is gated (license llama3.1), and ModelSource hf has no credential",
                 "spec.modelSource", id="no-credential"),
    pytest.param(request(SourceState.MISSING, restricted=False),
                 "ModelSource hf not found in AI manager quickstart", "spec.modelSource",
                 id="missing-source-any-model"),
])
def test_each_problem_is_one_error_with_its_field(gated: GatedRequest, summary: str,
                                                  path: str) -> None:
    [diag] = check_gated([gated])
    assert (diag.severity, diag.summary, diag.path, diag.address) == \
        (Severity.ERROR, summary, path, "ModelDeployment/llama")


@pytest.mark.parametrize("gated", [
    pytest.param(request(SourceState.CREDENTIAL), id="credentialed-source"),
    pytest.param(request(SourceState.NONE, restricted=False, source=None), id="open-model"),
    pytest.param(request(SourceState.NONE, restricted=None, source=None),
                 id="custom-or-unknown-model"),
])
def test_nothing_to_say(gated: GatedRequest) -> None:
    assert check_gated([gated]) == []


def test_the_fix_depends_on_where_the_source_is_declared() -> None:
    [mine] = check_gated([request(SourceState.NO_CREDENTIAL, declared=True)])
    assert "Add spec.credential to ModelSource hf (credential: {fromEnv: HF_TOKEN}" in mine.detail
    [theirs] = check_gated([request(SourceState.NO_CREDENTIAL, declared=False)])
    assert "Give the ModelSource hf a credential in Azure, or point spec.modelSource" in \
        theirs.detail


def _source(url: str, name: str, credential: bool) -> str:
    path = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/"
            f"aiManagers/quickstart/modelSources/{name}")
    props: dict[str, object] = {"sourceType": "HuggingFace"}
    if credential:
        props["credential"] = {"inline": {"type": "Inline", "value": "hf_token_for_test"}}
    answer = httpx.put(url + path, params={"api-version": CS}, json={"properties": props},
                       headers={"Authorization": "Bearer t"})
    assert answer.status_code in (200, 201), answer.text
    return path


def _gated(source: str | None, model: str = LLAMA) -> object:
    spec = model_deployment("llama", A100, catalog=model)
    if source:
        spec["modelSource"] = source
    return change("ModelDeployment/llama", after=spec)


def test_existing_sources_are_read_from_azure(fresh_emulator) -> None:
    url = fresh_emulator.url
    _source(url, "hf-open", credential=False)
    with_token = _source(url, "hf-token", credential=True)
    [open_source] = only_errors(preflight(url, _gated("hf-open")))
    assert open_source.summary.endswith("and ModelSource hf-open has no credential")
    assert "Give the ModelSource hf-open a credential in Azure" in open_source.detail
    assert only_errors(preflight(url, _gated("hf-token"))) == []
    assert only_errors(preflight(url, _gated(with_token))) == []  # by resource id
    [missing] = only_errors(preflight(url, _gated("nope", "microsoft/Phi-4-mini-instruct")))
    assert missing.summary == "ModelSource nope not found in AI manager quickstart"


def test_a_gated_model_without_a_source_is_an_error_and_an_open_one_is_not(emulator) -> None:
    plan = preflight(emulator.url, _gated(None))
    [diag] = only_errors(plan)
    assert diag.summary.startswith(f"{LLAMA} is gated (license llama3.1)")
    assert "apply fails with ModelSourceRequired" in diag.detail
    assert plan.errored
    assert only_errors(preflight(emulator.url, _gated(None, "microsoft/Phi-4-mini-instruct"))) \
        == []
