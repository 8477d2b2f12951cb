"""Emulator routes: cognitiveservices (being written)."""

from __future__ import annotations

from typing import Any


def routes(emu: Any) -> list[Any]:
    """No routes yet."""
    return []
