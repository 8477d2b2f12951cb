"""Sizes and durations as people read them in plan notes and upload progress."""

from __future__ import annotations


def human_size(size: float) -> str:
    """Bytes in decimal units, as a download page writes them: ``13.5 GB``, ``310 B``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """``8s``, ``2m 45s``, ``1h 05m`` (the upload progress lines of docs/uploads.md)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
