"""The retry rules: which failures are worth another try, and how long to wait before it.

Pure functions; the client owns the loop, the clock and the sleeper.

Which methods retry on what:

- GET, HEAD, PUT, DELETE, PATCH (idempotent in ARM: PUT is a full replace, PATCH merges
  absolute values, DELETE of a gone resource is a 204/404): 408, 429, 500, 502, 503, 504, and
  any connection error or timeout.
- POST (not idempotent: a retried POST may register twice): only 429 and 503, which promise the
  request was not processed, and connection failures that happened before the request was
  sent (connect errors, connect and pool timeouts). A read timeout on a POST is not retried.
  Read-only POST actions (``calculateCost``, ``listAccessInfo``) pass ``idempotent=True``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

from aimodels.transport.config import RetryPolicy

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses that mean "not processed, come back later": safe to retry even for a POST.
RETRYABLE_STATUS_UNSENT = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


def is_idempotent(method: str, override: bool | None = None) -> bool:
    """Whether a request may be sent twice; ``override`` is the caller's explicit say."""
    return override if override is not None else method.upper() in IDEMPOTENT_METHODS


def should_retry_status(status: int, idempotent: bool) -> bool:
    """Whether a response with ``status`` is worth another attempt."""
    allowed = RETRYABLE_STATUS if idempotent else RETRYABLE_STATUS_UNSENT
    return status in allowed


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """The wait the server asks for, in seconds, or None when it names none.

    Reads ``Retry-After-Ms`` and ``x-ms-retry-after-ms`` (milliseconds) first, then
    ``Retry-After`` as seconds or as an HTTP date (relative to ``now``, epoch seconds).
    ``headers`` must be case-insensitive or use lower-case keys.
    """
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) / 1000.0)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return _seconds_until_http_date(value, now)


def _seconds_until_http_date(value: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential backoff for the wait after the ``attempt``-th send (1-based)."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
    return rng.uniform(0.0, ceiling)
