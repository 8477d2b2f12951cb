"""Secrets out of every line we log, raise or print: bearer tokens, API keys, SAS signatures,
JSON fields that hold a credential, and every secret value this process has learned.

Two kinds of redaction, both here:

- **By name and shape** (``redact_text`` patterns, ``redact_json`` field names): what the
  transport writes to a log, an ``on_http`` event or an error message. It errs on the side of
  hiding: a field called ``primaryKey`` is hidden even if it held nothing secret.
- **By value** (``register_secret``, ``scrub_secrets``): a process-wide registry of the secret
  values aimodels knows (a ModelSource credential read from the environment, keys from
  listAccessInfo and listKeys, SAS signatures the registry hands out, Entra ID tokens). A
  service that quotes one back in an error message, in whatever field, is caught here.
  ``redact_text`` applies both; ``scrub_secrets`` (the terminal, the debug log, the plan file)
  applies only the registry, so ordinary output that merely looks like a credential stays.

    >>> redact("GET https://a.blob.core.windows.net/c/b?sv=1&sig=abc%2B")
    'GET https://a.blob.core.windows.net/c/b?sv=1&sig=REDACTED'
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

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
    # A signature is base64, URL-encoded: it ends at anything else (``&``, a quote, a colon).
    (re.compile(r"\b(sig=)[A-Za-z0-9%+/=_.~-]+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"\b(api-key[\"']?\s*[:=]\s*[\"']?)[^\"'\s,}&]+", re.IGNORECASE), r"\1" + REDACTED),
)


#: Values shorter than this are not registered: scrubbing every "password" or "admin" from
#: the output would mangle it, and a secret that short is no secret anyway.
MIN_SECRET_LENGTH = 8


class _SecretRegistry:
    """The secret values this process knows, and one regex that finds any of their forms."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        with self._lock:
            forms = {value, quote(value), quote(value, safe=""), quote_plus(value),
                     json.dumps(value)[1:-1]}
            fresh = {f for f in forms if len(f) >= MIN_SECRET_LENGTH} - self._values
            if fresh:
                self._values |= fresh
                # Longest first, so a form that contains another is replaced whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text


_SECRETS = _SecretRegistry()


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret: from now on ``redact_text`` and ``scrub_secrets`` replace
    it, and its URL-encoded and JSON-escaped forms, with REDACTED wherever it appears.

    Call it wherever aimodels learns a secret. Values shorter than ``MIN_SECRET_LENGTH`` (and
    None or blanks) are ignored, so a short value can never scrub common words from output.
    """
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        _SECRETS.add(value)


def register_sas(url: str | None) -> None:
    """Register the signature (``sig=``) of a SAS URL: the part of it that grants access."""
    if url:
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if key.lower() == "sig":
                register_secret(value)


def forget_secrets() -> None:
    """Empty the registry: each command starts with none (``cli.main``); tests reset it."""
    _SECRETS.clear()


def scrub_secrets(text: str) -> str:
    """``text`` with every registered secret value replaced; nothing else changes."""
    return _SECRETS.scrub(text)


def redact_text(text: str) -> str:
    """``text`` with SAS signatures, bearer tokens, ``api-key`` values and every registered
    secret value replaced."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return scrub_secrets(text)


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
