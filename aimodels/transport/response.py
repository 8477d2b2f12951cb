"""``Response``: what callers of the transport get back, a frozen value with no httpx in it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response: status, headers (lower-case names), the parsed JSON body (None when
    there is none or it is not JSON) and the raw text. ``url`` is the one that was sent, query
    included: it may hold a SAS signature, so pass it through ``redact`` before logging it.

    ``AzureClient.request`` returns one only when it is an answer of the API: below 300, and
    with an empty body or a JSON object (``errors.unexpected_answer``), so a None ``body``
    always means "no body", never "a body we could not read"."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    text: str = ""
    url: str = ""
    method: str = "GET"

    @classmethod
    def from_httpx(cls, response: httpx.Response) -> Response:
        """Copy what we need out of an httpx response (already read)."""
        text = response.text
        return cls(
            status=response.status_code,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=_parse_json(text),
            text=text,
            url=str(response.request.url),
            method=response.request.method,
        )

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name, or None."""
        return self.headers.get(name.lower())

    @property
    def etag(self) -> str | None:
        """The resource's ETag: ``etag`` (Cognitive Services) or ``eTag`` (ContainerService)
        in the body, else the ``ETag`` header."""
        if isinstance(self.body, dict):
            for key in ("etag", "eTag"):
                if isinstance(self.body.get(key), str):
                    return str(self.body[key])
        return self.header("etag")


def _parse_json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
