"""Literal secrets in manifests: found, refused, and never echoed.

A secret never belongs in a manifest (spec §2): a credential names where the secret lives
(``fromEnv`` or ``keyVaultSecretUri``). We refuse, without showing the value:
- any literal under a ``credential`` key (``credential: "hf_..."``, ``{value: ...}``,
  ``{inline: {value: ...}}``), and a token pasted into ``fromEnv`` in place of a variable name;
- a scalar under a key that names a secret anywhere (``password``, ``apiKey``, ``accountKey``...);
- a string shaped like a known token anywhere (Hugging Face ``hf_``, OpenAI ``sk-``, GitHub
  ``ghp_``, a SAS ``sig=`` in a URL, a private key block, a JWT...).
Then ``scrub`` removes each such value from every diagnostic, whatever produced it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aimodels.errors import Diagnostic, error
from aimodels.manifest.yamldoc import FieldPath, YamlDocument, format_path

MASK = "(sensitive value)"

TOKEN_SHAPES = re.compile(
    r"hf_[A-Za-z0-9]{20,}"
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|(?i:accountkey=)[^;\s'\"]+"
    r"|[?&]sig=[^&\s'\"]+"
)

#: Keys that hold a secret wherever they appear (compared lower-case, without '_' and '-').
SECRET_KEYS = frozenset({
    "apikey", "accountkey", "accesskey", "accesstoken", "clientsecret", "connectionstring",
    "password", "passwd", "privatekey", "sastoken", "secret", "secretkey", "token",
})
CREDENTIAL_KEYS = frozenset({"credential", "credentials"})
#: Keys under a credential that name where access comes from, not a secret.
REFERENCE_KEYS = frozenset({"fromEnv", "keyVaultSecretUri", "managedIdentityResourceId"})

_HOW_INSTEAD = (
    "A secret never goes in a manifest: it would end up in git, plan files and logs.\n"
    "Name where it lives instead: credential: {fromEnv: HF_TOKEN} (read from the environment at "
    "plan/apply time) or credential: {keyVaultSecretUri: "
    "https://<vault>.vault.azure.net/secrets/<name>}.\n"
    "If this secret was ever committed or shared, revoke it."
)

_NOT_HERE = (
    "A secret never goes in a manifest: it would end up in git, plan files and logs.\n"
    "Azure access comes from your identity (azure-identity's DefaultAzureCredential); a "
    "ModelSource credential names where its secret lives: credential: {fromEnv: HF_TOKEN} or "
    "credential: {keyVaultSecretUri: https://<vault>.vault.azure.net/secrets/<name>}.\n"
    "If this secret was ever committed or shared, revoke it."
)
_SAS_INSTEAD = (
    "A SAS token is a credential: it would end up in git, plan files and logs.\n"
    "Give the URL without its query string; access comes from your Azure identity.\n"
    "If this SAS was ever committed or shared, revoke it (rotate the storage account key)."
)


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """A literal secret at ``path``: ``value`` is kept only to scrub it from messages.

    ``scope`` is the field under which schema errors are moot once the secret is refused
    (the whole ``credential`` block for a literal credential).
    """

    path: FieldPath
    value: str
    reason: str
    scope: FieldPath


def find_secrets(doc: YamlDocument) -> list[SecretFinding]:
    """Every literal secret in one document."""
    return list(_walk(doc.data, (), credential=None))


def secret_diagnostic(doc: YamlDocument, finding: SecretFinding, address: str) -> Diagnostic:
    """The error for one finding; it names the place and never the value."""
    if finding.reason.startswith("a SAS token"):
        detail = _SAS_INSTEAD
    elif finding.scope[-1:] and str(finding.scope[-1]).lower() in CREDENTIAL_KEYS:
        detail = _HOW_INSTEAD
    else:
        detail = _NOT_HERE
    return error(f"{finding.reason} (the value is not shown)", detail,
                 source=doc.at(finding.path, key=True), path=format_path(finding.path),
                 address=address)


def scrub(diagnostics: Iterable[Diagnostic], values: Iterable[str]) -> list[Diagnostic]:
    """The diagnostics with every known secret value and token-shaped text masked, in every
    text field (a secret pasted as a key shows up in the field path too)."""
    literals = sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)
    return [replace(d, summary=_mask(d.summary, literals), detail=_mask(d.detail, literals),
                    path=_mask(d.path, literals), address=_mask(d.address, literals))
            for d in diagnostics]


def _mask(text: str, literals: list[str]) -> str:
    for literal in literals:
        text = text.replace(literal, MASK)
    return TOKEN_SHAPES.sub(MASK, text)


def _walk(value: Any, path: FieldPath, credential: FieldPath | None) -> Iterator[SecretFinding]:
    """``credential`` is the path of the enclosing credential block, if any."""
    if isinstance(value, Mapping):
        yield from _walk_mapping(value, path, credential)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i), credential)
    elif credential is not None and _is_literal(value):
        yield SecretFinding(path, str(value), "a literal secret in a credential", credential)
    elif isinstance(value, str) and TOKEN_SHAPES.search(value):
        yield SecretFinding(path, value, _token_reason(value), path)


def _walk_mapping(mapping: Mapping[Any, Any], path: FieldPath,
                  credential: FieldPath | None) -> Iterator[SecretFinding]:
    for key, value in mapping.items():
        where = (*path, str(key))
        if isinstance(key, str) and TOKEN_SHAPES.search(key):
            yield SecretFinding(where, key, "a key that looks like a secret token", where)
        elif credential is not None and key in REFERENCE_KEYS:
            yield from _check_reference(key, value, where, credential)
        elif _normalized(key) in SECRET_KEYS and _is_literal(value):
            yield SecretFinding(where, str(value), f"a literal secret in '{key}'", where)
        else:
            inside = where if credential is None and _normalized(key) in CREDENTIAL_KEYS \
                else credential
            yield from _walk(value, where, inside)


def _check_reference(key: str, value: Any, where: FieldPath,
                     credential: FieldPath) -> Iterator[SecretFinding]:
    """``fromEnv``, ``keyVaultSecretUri`` and ``managedIdentityResourceId`` hold names, not
    secrets: unless a token was pasted."""
    if isinstance(value, str) and TOKEN_SHAPES.search(value):
        what = "the secret itself in fromEnv, which takes a variable name" if key == "fromEnv" \
            else f"a secret token in {key}"
        yield SecretFinding(where, value, what, credential)


def _token_reason(value: str) -> str:
    match = TOKEN_SHAPES.search(value)
    if match and match.group().lstrip("?&").startswith("sig="):
        return "a SAS token (sig=...) in a URL"
    return "a value that looks like a secret token"


def _is_literal(value: Any) -> bool:
    return value is not None and value != "" and not isinstance(value, bool | Mapping | list)


def _normalized(key: Any) -> str:
    return str(key).lower().replace("_", "").replace("-", "")
