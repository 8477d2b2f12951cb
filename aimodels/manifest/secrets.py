"""Literal secrets in manifests: found, refused, and never echoed.

A secret never belongs in a manifest: a credential names where the secret lives
(``fromEnv`` or ``keyVaultSecretUri``). We refuse, without showing the value:
- any literal under a ``credential`` key (``credential: "hf_..."``, ``{value: ...}``,
  ``{inline: {value: ...}}``), and a ``fromEnv`` value that looks like a credential rather than a
  variable name (a known token prefix, or a long random-looking string: ``looks_like_credential``);
- a scalar under a key that names a secret anywhere (``password``, ``apiKey``, ``accountKey``...);
- a string shaped like a known token anywhere (Hugging Face ``hf_``, OpenAI ``sk-``, GitHub
  ``ghp_``, a SAS ``sig=`` in a URL, a private key block, a JWT...).
Then ``scrub`` removes each such value from every diagnostic, whatever produced it.
"""

from __future__ import annotations

import functools
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

#: Prefixes of well-known token formats (Hugging Face, GitHub, GitLab, OpenAI, Stripe, Slack, AWS,
#: Google, a JWT's header, SendGrid): a ``fromEnv`` value that starts with one, followed by
#: random-looking characters, is a token, not a variable name.
_TOKEN_PREFIX = re.compile(r"^(?:hf_|gh[pousr]_|github_pat_|glpat-|sk-|[sr]k_(?:live|test)_"
                           r"|xox[abprs]-|AKIA|ASIA|AIza|eyJ|SG\.)(?P<rest>.*)$")
#: What separates the words of a variable name (``HF_TOKEN``) or the parts of a token.
_SEPARATORS = re.compile(r"[_.\-]+")

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
    found: list[SecretFinding] = []
    _walk(doc.data, (), None, found)
    return found


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


def _walk(value: Any, path: FieldPath, credential: FieldPath | None,
          found: list[SecretFinding]) -> None:
    """Add the findings in ``value`` to ``found``; ``credential`` is the path of the enclosing
    credential block, if any. (Appending, not generators: every manifest is walked, and
    nested generators cost more than the checks.)"""
    if type(value) is dict or isinstance(value, Mapping):
        _walk_mapping(value, path, credential, found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, (*path, i), credential, found)
    elif credential is not None and _is_literal(value):
        found.append(SecretFinding(path, str(value), "a literal secret in a credential",
                                   credential))
    elif isinstance(value, str) and TOKEN_SHAPES.search(value):
        found.append(SecretFinding(path, value, _token_reason(value), path))


def _walk_mapping(mapping: Mapping[Any, Any], path: FieldPath, credential: FieldPath | None,
                  found: list[SecretFinding]) -> None:
    for key, value in mapping.items():
        where = (*path, str(key))
        shaped, normalized = _key_facts(key) if type(key) is str else (False, _normalized(key))
        if shaped:
            found.append(SecretFinding(where, key, "a key that looks like a secret token",
                                       where))
        elif credential is not None and key in REFERENCE_KEYS:
            found.extend(_check_reference(key, value, where, credential))
        elif normalized in SECRET_KEYS and _is_literal(value):
            found.append(SecretFinding(where, str(value), f"a literal secret in '{key}'", where))
        else:
            inside = where if credential is None and normalized in CREDENTIAL_KEYS \
                else credential
            _walk(value, where, inside, found)


@functools.lru_cache(maxsize=4096)
def _key_facts(key: str) -> tuple[bool, str]:
    """Whether a key is shaped like a token, and its ``_normalized`` form: the same few keys
    come back in every manifest."""
    return bool(TOKEN_SHAPES.search(key)), _normalized(key)


def _check_reference(key: str, value: Any, where: FieldPath,
                     credential: FieldPath) -> Iterator[SecretFinding]:
    """``fromEnv``, ``keyVaultSecretUri`` and ``managedIdentityResourceId`` hold names, not
    secrets: unless a token was pasted."""
    if not isinstance(value, str):
        return
    if key == "fromEnv" and (TOKEN_SHAPES.search(value) or looks_like_credential(value)):
        yield SecretFinding(where, value, FROM_ENV_CREDENTIAL, credential)
    elif TOKEN_SHAPES.search(value):
        yield SecretFinding(where, value, f"a secret token in {key}", credential)


#: The refusal of a ``fromEnv`` value that is a secret rather than the name of a variable.
FROM_ENV_CREDENTIAL = ("this looks like a credential, not an environment variable name; put the "
                       "secret in the environment and name the variable here")


def looks_like_credential(value: str) -> bool:
    """Whether ``value``, given where a variable *name* belongs, is more likely a secret.

    Names are words (``HF_TOKEN``, ``MyHuggingFaceToken``, ``AZURE_OPENAI_KEY_2``); tokens are
    random. We say "secret" for: a well-known token prefix followed by at least 8 characters
    with a digit or both letter cases (``hf_AbCdEfGh...``, ``ghp_...``, ``sk-...``, ``eyJ...``);
    or any part between separators (``_ - .``) of 20 characters or more that holds 3 digits or
    more, or switches letter case between most neighbours (random mixed case, hex keys,
    base64). A short lowercase ``hf_token`` or a camel-case name stays a name.
    """
    prefixed = _TOKEN_PREFIX.match(value)
    rest = prefixed.group("rest") if prefixed else ""
    if len(rest) >= 8 and (_has_digit(rest) or rest.lower() != rest != rest.upper()):
        return True
    return any(len(part) >= 20 and _random_looking(part) for part in _SEPARATORS.split(value))


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _random_looking(text: str) -> bool:
    """3 digits or more, or a letter case that changes at 45% of neighbouring letters or more
    (camel case changes at about a third: twice per word)."""
    if sum(c.isdigit() for c in text) >= 3:
        return True
    switches = sum(a.isupper() != b.isupper() for a, b in zip(text, text[1:], strict=False)
                   if a.isalpha() and b.isalpha())
    return switches >= 0.45 * len(text)


def _token_reason(value: str) -> str:
    match = TOKEN_SHAPES.search(value)
    if match and match.group().lstrip("?&").startswith("sig="):
        return "a SAS token (sig=...) in a URL"
    return "a value that looks like a secret token"


def _is_literal(value: Any) -> bool:
    return value is not None and value != "" and not isinstance(value, bool | Mapping | list)


def _normalized(key: Any) -> str:
    return str(key).lower().replace("_", "").replace("-", "")
