"""Secrets out of every line we log or raise: bearer tokens, API keys, SAS signatures, and
JSON fields that hold a credential.

Everything the transport writes to a log, an ``on_http`` event or an error message passes
through here first. Redaction is by name and shape, so it errs on the side of hiding: a field
called ``primaryKey`` is hidden even if it held nothing secret.

    >>> redact("GET https://a.blob.core.windows.net/c/b?sv=1&sig=abc%2B")
    'GET https://a.blob.core.windows.net/c/b?sv=1&sig=REDACTED'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "REDACTED"

#: Header names (lower case) whose values are credentials.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "ocp-apim-subscription-key",
        "x-ms-copy-source-authorization",
        "cookie",
        "set-cookie",
    }
)

# JSON field names that hold secrets: apiKey, key1, keys, clientSecret, password, accessToken,
# connectionString. "max_tokens" and "prompt_tokens" end in "tokens" and stay visible.
_SECRET_FIELD = re.compile(
    r"(key\d*|keys|secret|password|passphrase|token|connectionstring)$", re.IGNORECASE
)
# Under a "credential" object even a field called "value" is the secret (ModelSource inline).
_CREDENTIAL_PARENTS = frozenset({"credential", "credentials", "inline"})

_TEXT_PATTERNS = (
    (re.compile(r"\b(sig=)[^&\s\"'#<>]+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"\b(api-key[\"']?\s*[:=]\s*[\"']?)[^\"'\s,}&]+", re.IGNORECASE), r"\1" + REDACTED),
)


def redact_text(text: str) -> str:
    """``text`` with SAS signatures, bearer tokens and ``api-key`` values replaced."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credential headers replaced and the rest text-redacted."""
    return {
        name: REDACTED if name.lower() in SECRET_HEADERS else redact_text(value)
        for name, value in headers.items()
    }


def redact_json(value: Any, *, under_credential: bool = False) -> Any:
    """A copy of a JSON value with secret-named fields replaced, recursively."""
    if isinstance(value, Mapping):
        return {key: _redact_field(str(key), item, under_credential) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(item, under_credential=under_credential) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _redact_field(key: str, item: Any, under_credential: bool) -> Any:
    if item is None or item == "":
        return item
    if _SECRET_FIELD.search(key) and not isinstance(item, Mapping):
        return REDACTED
    if under_credential and key.lower() == "value":
        return REDACTED
    nested = under_credential or key.lower() in _CREDENTIAL_PARENTS
    return redact_json(item, under_credential=nested)


def redact(value: Any) -> Any:
    """Redact whatever is about to be logged: text, a header mapping, or a JSON value."""
    if isinstance(value, str):
        return redact_text(value)
    return redact_json(value)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through ``redact_text``.

    httpx logs every request URL at INFO, SAS signature included; this keeps it out.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True


_REDACTED_LOGGERS = ("httpx", "httpcore")


def install_log_redaction() -> None:
    """Put a ``RedactingFilter`` on the loggers of the HTTP libraries below us (once)."""
    for name in _REDACTED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
