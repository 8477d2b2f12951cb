"""The secret canary: a literal secret in a manifest is refused and never appears in any output
(loader diagnostics, `validate` text or JSON), wherever it was put."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimodels.cli.main import main
from aimodels.errors import Diagnostic, ManifestError, error
from aimodels.manifest.load import load_manifests
from aimodels.manifest.secrets import MASK, looks_like_credential, scrub

SHAPED = "hf_CANARYabcdefghijklmnopqrstuvwxyz0123456"
PLAIN = "CANARY-plain-password-42"

STACK = """apiVersion: aimodels/v1
kind: Stack
metadata: {name: canary}
spec: {target: local, subscriptionId: 00000000-0000-0000-0000-000000000000,
       resourceGroup: rg-canary, location: eastus, aiManager: canary}
"""
SOURCE = """apiVersion: aimodels/v1
kind: ModelSource
metadata: {name: hf-private}
spec:
  sourceType: HuggingFace
"""

PLACEMENTS = {
    "credential-value": SOURCE + f"  credential: {{value: {PLAIN}}}\n",
    "credential-string": SOURCE + f"  credential: {SHAPED}\n",
    "credential-plain-string": SOURCE + f'  credential: "{PLAIN}"\n',
    "credential-inline-arm-shape": SOURCE + f"  credential:\n    inline:\n      value: {PLAIN}\n",
    "credential-number": SOURCE + "  credential: 4242424242CANARY\n",
    "token-in-fromEnv": SOURCE + f"  credential: {{fromEnv: {SHAPED}}}\n",
    # Valid variable names by the schema's pattern, yet credentials: validate used to pass and
    # echo them in "environment variable ... is not set".
    "random-name-in-fromEnv": SOURCE + "  credential: {fromEnv: a8F3kLmN0pQ7CANARY2tU5vW9xY1}\n",
    "short-hf-token-in-fromEnv": SOURCE + "  credential: {fromEnv: hf_CANARY12abc}\n",
    "jwt-header-in-fromEnv": SOURCE + "  credential: {fromEnv: eyJCANARYhbGciOiJIUzI1NiJ9}\n",
    "hex-key-in-fromEnv": SOURCE + "  credential: {fromEnv: CANARY0123456789abcdef01234567}\n",
    "not-a-name-in-fromEnv": SOURCE + '  credential: {fromEnv: "CANARY token!"}\n',
    "http-keyVaultSecretUri": SOURCE
    + "  credential: {keyVaultSecretUri: 'http://kv.vault.azure.net/secrets/CANARY'}\n",
    "foreign-host-keyVaultSecretUri": SOURCE
    + "  credential: {keyVaultSecretUri: 'https://evil.example/secrets/CANARY'}\n",
    "query-in-keyVaultSecretUri": SOURCE
    + "  credential: {keyVaultSecretUri: 'https://kv.vault.azure.net/secrets/a?CANARY=1'}\n",
    "password-in-keyVaultSecretUri": SOURCE + f"  credential: {{keyVaultSecretUri: {PLAIN}}}\n",
    "value-beside-fromEnv": SOURCE + f"  credential: {{fromEnv: HF_TOKEN, value: {PLAIN}}}\n",
    "token-in-description": SOURCE + f"  description: my token is {SHAPED}\n",
    "secret-named-label": SOURCE.replace("{name: hf-private}",
                                         f"{{name: hf-private, labels: {{token: {PLAIN}}}}}"),
    "token-as-a-key": SOURCE + f"  {SHAPED}: x\n",
    "password-key-in-spec": SOURCE + f"  password: {PLAIN}\n",
    "sas-in-weights-url": "apiVersion: aimodels/v1\nkind: CustomModel\nmetadata: {name: m}\nspec:\n"
                          f"  path: 'https://a.blob.core.windows.net/w/m.gguf?sv=1&sig={PLAIN}'\n",
    "syntax-error-on-the-secret-line": SOURCE + f'  credential: {{value: "{PLAIN}}}\n',
    "tab-on-the-secret-line": SOURCE + f"  credential:\n\tvalue: {PLAIN}\n",
    "wrong-kind-case": SOURCE.replace("kind: ModelSource", "kind: modelsource")
    + f"  credential: {{value: {PLAIN}}}\n",
}


def write_set(folder: Path, resource: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack.yaml").write_text(STACK)
    (folder / "resource.yaml").write_text(resource)
    return folder


@pytest.mark.parametrize("placement", PLACEMENTS, ids=list(PLACEMENTS))
def test_loader_refuses_and_never_echoes_the_secret(placement: str, tmp_path: Path) -> None:
    folder = write_set(tmp_path, PLACEMENTS[placement])
    with pytest.raises(ManifestError) as raised:
        load_manifests([str(folder)], env={}, strict_env=True)
    texts = [raised.value.message, raised.value.hint]
    texts += [f"{d.summary} {d.detail} {d.path} {d.address}" for d in raised.value.diagnostics]
    assert not any("CANARY" in text for text in texts), texts


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize("placement", PLACEMENTS, ids=list(PLACEMENTS))
def test_validate_output_never_shows_the_secret(placement: str, output: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_set(tmp_path, PLACEMENTS[placement])
    with pytest.raises(SystemExit) as exited:
        main(["validate", "-f", str(folder), "--output", output])
    out, err = capsys.readouterr()
    assert exited.value.code == 3
    assert "CANARY" not in out + err


def test_a_literal_credential_gets_one_error_that_says_what_to_do(tmp_path: Path) -> None:
    folder = write_set(tmp_path, PLACEMENTS["credential-value"])
    with pytest.raises(ManifestError) as raised:
        load_manifests([str(folder)], env={}, strict_env=False)
    (diag,) = raised.value.diagnostics
    assert diag.summary == "a literal secret in a credential (the value is not shown)"
    assert "fromEnv" in diag.detail and "keyVaultSecretUri" in diag.detail
    assert (diag.path, diag.source.line if diag.source else 0) == ("spec.credential.value", 6)


def test_the_value_of_a_from_env_variable_never_shows(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_set(tmp_path, SOURCE + "  credential: {fromEnv: HF_TOKEN}\n")
    (folder / "bad.yaml").write_text("apiVersion: aimodels/v1\nkind: ModelSource\n")
    monkeypatch.setenv("HF_TOKEN", SHAPED)
    with pytest.raises(SystemExit):
        main(["validate", "-f", str(folder), "-o", "json"])
    out, err = capsys.readouterr()
    assert "CANARY" not in out + err
    assert json.loads(out)["valid"] is False


@pytest.mark.parametrize("name", [
    "HF_TOKEN", "hf_token", "GITHUB_TOKEN", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY_2024",
    "MY_HUGGINGFACE_TOKEN_FOR_PROD_ORG", "MyHuggingFaceTokenForProduction", "TOKEN_V2_2024_01_15",
    "HUGGINGFACEHUBTOKENREADONLY", "ghp_TOKEN", "sk_proj"])
def test_variable_names_are_not_taken_for_credentials(name: str) -> None:
    assert not looks_like_credential(name)


@pytest.mark.parametrize("value", [
    SHAPED, "hf_Qx7Lm2Pz", "ghp_1234567890abcdef", "sk-abc123def456", "eyJhbGciOiJIUzI1NiJ9",
    "AKIAIOSFODNN7EXAMPLE", "a8F3kLmN0pQ7rS2tU5vW9xY1zB4cD6eG", "0123456789abcdef0123456789abcdef",
    "c2VjcmV0LWtleS1ub3QtcmVhbA=="])
def test_tokens_are_taken_for_credentials(value: str) -> None:
    assert looks_like_credential(value)


def test_a_credential_in_from_env_says_what_to_do(tmp_path: Path) -> None:
    folder = write_set(tmp_path, PLACEMENTS["random-name-in-fromEnv"])
    with pytest.raises(ManifestError) as raised:
        load_manifests([str(folder)], env={}, strict_env=False)
    (diag,) = raised.value.diagnostics
    assert diag.summary.startswith("this looks like a credential, not an environment variable "
                                   "name; put the secret in the environment and name the "
                                   "variable here")
    assert (diag.path, diag.source.line if diag.source else 0) == ("spec.credential.fromEnv", 6)


def test_scrub_masks_known_values_and_token_shapes() -> None:
    diag = error(f"found {PLAIN} and ghp_{'x' * 36}", f"also {SHAPED} in https://h/b?sig=a%3D&x=1",
                 path=f"spec.{SHAPED}")
    (clean,) = scrub([diag], [PLAIN])
    assert clean.summary == f"found {MASK} and {MASK}"
    assert clean.detail == f"also {MASK} in https://h/b{MASK}&x=1"
    assert clean.path == f"spec.{MASK}"
    assert isinstance(clean, Diagnostic)


def test_ordinary_text_is_left_alone() -> None:
    text = "sk-learn, hf_hub, the token budget, tokens: 4096, https://x.blob.core.windows.net/w"
    (clean,) = scrub([error(text)], [])
    assert clean.summary == text
