"""Emulated inference: deterministic OpenAI ``chat.completion`` bodies.

``make_completion`` is shared by every family that serves chat completions (Foundry deployments
here, AI-manager namespace endpoints in containerservice), so the same prompt gets the same answer
whichever endpoint a test calls. Nothing is random: the id and ``created`` derive from a hash of
the input, and tokens are counted by splitting on whitespace.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# 2025-01-01T00:00:00Z; ``created`` is this plus an offset from the input hash (within a year).
_CREATED_BASE = 1735689600
_YEAR_SECONDS = 365 * 24 * 3600


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by the emulator's whitespace tokenizer."""
    return len(text.split())


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message: a plain string, or the text parts of a content list."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return " ".join(parts)
    return ""


def make_completion(model: str, messages: list[dict[str, Any]], max_tokens: int | None = None) -> dict[str, Any]:
    """A deterministic OpenAI chat.completion body answering ``messages``.

    The reply echoes the last user message ("[emulated gpt-4o] You said: ..."), cut to
    ``max_tokens`` whitespace tokens (finish_reason ``length``) when it would be longer.
    Raises ValueError when ``max_tokens`` is given and below 1.
    """
    if max_tokens is not None and max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    digest = _digest(model, messages, max_tokens)
    words = _reply(model, messages).split()
    truncated = max_tokens is not None and len(words) > max_tokens
    words = words[:max_tokens] if truncated else words
    prompt_tokens = sum(count_tokens(message_text(m)) for m in messages)
    return {
        "id": f"chatcmpl-{digest[:29]}",
        "object": "chat.completion",
        "created": _CREATED_BASE + int(digest[:12], 16) % _YEAR_SECONDS,
        "model": model,
        "system_fingerprint": f"fp_{digest[29:39]}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(words), "refusal": None},
                "logprobs": None,
                "finish_reason": "length" if truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        },
    }


def _reply(model: str, messages: list[dict[str, Any]]) -> str:
    user_texts = [message_text(m) for m in messages if m.get("role") == "user"]
    said = " ".join(user_texts[-1].split()) if user_texts else "(nothing)"
    return f"[emulated {model}] You said: {said}"


def _digest(model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> str:
    canonical = json.dumps([model, messages, max_tokens], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def routes(emu: Any) -> list[Any]:
    """No routes yet (Foundry chat completions come next)."""
    return []
