"""The retry rules: which failures are worth another try, and how long to wait before it.

Pure functions (and the tally they keep); the client owns the loop, the clock and the sleeper.

How long we keep trying: a 429 or a 503 says the request was not processed and the service is
pacing us, not failing: such answers count toward ``RetryPolicy.max_paced`` rather than
``max_attempts`` (go-autorest does not count a 429 either), and we wait what they ask. The other
failures (500, 502, 504, 408, network errors) count toward ``max_attempts``; the network errors
alone also toward the smaller ``max_unanswered``: a service that answers, even with an error,
gets more patience than an endpoint that cannot be reached (azure-core likewise counts
connection errors apart from error statuses), so a wrong endpoint fails in seconds. When the
server
names no wait (or 0, as azure-core reads it too), we wait a full-jitter backoff that grows
with the number of such guesses. ``total_budget`` bounds the whole; a request given a
``deadline`` (the polls of an accepted write) has no count at all, only that deadline.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from aimodels.transport.config import RetryPolicy

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses that mean "not processed, come back later": safe to retry even for a POST.
RETRYABLE_STATUS_UNSENT = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
#: The codes ``transport.errors`` gives network failures (no response at all).
NETWORK_ERROR_CODES = frozenset({"ConnectionError", "Timeout"})


def is_idempotent(method: str, override: bool | None = None) -> bool:
    """Whether a request may be sent twice; ``override`` is the caller's explicit say."""
    return override if override is not None else method.upper() in IDEMPOTENT_METHODS


def should_retry_status(status: int, idempotent: bool) -> bool:
    """Whether a response with ``status`` is worth another attempt."""
    allowed = RETRYABLE_STATUS if idempotent else RETRYABLE_STATUS_UNSENT
    return status in allowed


def is_transient(status: int, code: str) -> bool:
    """Whether an error that outlasted the retries was a passing one (throttling, a server
    error, no answer at all) rather than Azure's answer to the request (404, 400, 409...).
    ``status`` is 0 for a failure without a response; ``code`` is then the network one."""
    return status in RETRYABLE_STATUS or (status == 0 and code in NETWORK_ERROR_CODES)


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
    # The exponent is capped: retries up to a deadline may count hundreds of attempts, and
    # 2**1100 does not fit a float (the ceiling is long past max_delay by then anyway).
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** min(attempt - 1, 60)))
    return rng.uniform(0.0, ceiling)


@dataclass(slots=True)
class RetryTally:
    """The failed sends of one request so far, from ``started`` (epoch seconds): ``paced``
    answered 429 or 503, ``failed`` the others, ``unanswered`` those of them without any
    answer, ``guessed`` those that named no wait."""

    started: float
    paced: int = 0
    failed: int = 0
    unanswered: int = 0
    guessed: int = 0


def next_delay(
    policy: RetryPolicy,
    tally: RetryTally,
    status: int | None,
    asked: float | None,
    now: float,
    rng: random.Random,
    deadline: float | None = None,
) -> float | None:
    """Count one more failed send in ``tally`` and return the wait before the next, or None
    to give up. ``status`` is None for a network error; ``asked`` is the wait the response
    named. Without a ``deadline`` we give up after ``max_attempts`` failures (``max_unanswered``
    without an answer) or ``max_paced`` paced answers, or when the wait would end past
    ``total_budget``; with one, only when the wait would end past it."""
    if status in RETRYABLE_STATUS_UNSENT:
        tally.paced += 1
    else:
        tally.failed += 1
        if status is None:
            tally.unanswered += 1
    if deadline is None and (tally.failed >= policy.max_attempts
                             or tally.unanswered >= policy.max_unanswered
                             or tally.paced > policy.max_paced):
        return None
    if asked:
        delay = asked
    else:
        tally.guessed += 1
        delay = backoff_delay(policy, tally.guessed, rng)
    limit = deadline if deadline is not None else tally.started + policy.total_budget
    return None if now + delay > limit else delay
