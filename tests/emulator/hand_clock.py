"""A clock the blob and registry tests move by hand (SAS expiry, upload lifetimes)."""

from __future__ import annotations

START = 1_900_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now
