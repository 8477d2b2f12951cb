"""Response helpers every emulator route uses: ARM error bodies, JSON, absolute URLs, ETag checks.

Kept in one place so every API family answers the way Azure does where clients notice:
``{"error": {"code", "message"}}`` bodies, absolute URLs built from the Host header, 412
``PreconditionFailed`` on ETag mismatch, and never a ``Retry-After`` on a 4xx other than 429
(azure-core retries any error response that carries one).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def arm_error(status: int, code: str, message: str,
              headers: dict[str, str] | None = None) -> JSONResponse:
    """An ARM error response: ``{"error": {"code", "message"}}`` with the given status."""
    return json_response({"error": {"code": code, "message": message}}, status, headers)


def json_response(body: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response with an ``x-ms-request-id``, as ARM sends on every answer."""
    merged = {"x-ms-request-id": str(uuid.uuid4())}
    merged.update(headers or {})
    return JSONResponse(body, status, headers=merged)


def no_content(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    """An empty response (204 on delete, 202 while an operation runs)."""
    return Response(status_code=status, headers=headers)


def base_url(request: Request) -> str:
    """The origin the client called us at (``http://127.0.0.1:PORT``), for absolute LRO URLs."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def new_etag() -> str:
    """A fresh opaque ETag, quoted as HTTP entity tags are."""
    return f'"{uuid.uuid4()}"'


def json_object(value: Any) -> dict[str, Any]:
    """A JSON object of a request body (``sku``, ``properties``...), or an empty one for
    anything else."""
    return value if isinstance(value, dict) else {}


async def read_json(request: Request) -> dict[str, Any] | Response:
    """The request body as a JSON object, or a 400 ``InvalidRequestContent`` response."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return arm_error(400, "InvalidRequestContent", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return arm_error(400, "InvalidRequestContent", "The request body must be a JSON object.")
    return body


def check_preconditions(request: Request, current_etag: str | None) -> Response | None:
    """Apply If-Match / If-None-Match against the resource's ETag (None: it does not exist).

    ``If-Match: *`` needs the resource to exist, ``If-Match: <etag>`` needs equal ETags, and
    ``If-None-Match: *`` needs it not to exist. Failure is 412 PreconditionFailed, as ARM answers.
    """
    if_match = request.headers.get("if-match")
    if_none_match = request.headers.get("if-none-match")
    if if_match is not None:
        if current_etag is None:
            return _precondition_failed("the resource does not exist")
        if if_match.strip() != "*" and _strip_weak(if_match) != _strip_weak(current_etag):
            return _precondition_failed(
                f"the resource's ETag is {current_etag}, not {if_match.strip()}"
            )
    if if_none_match is not None and if_none_match.strip() == "*" and current_etag is not None:
        return _precondition_failed("the resource already exists (If-None-Match: *)")
    return None


def _strip_weak(etag: str) -> str:
    etag = etag.strip()
    return etag[2:] if etag.startswith("W/") else etag


def _precondition_failed(why: str) -> JSONResponse:
    return arm_error(412, "PreconditionFailed",
                     f"The precondition given in the request failed: {why}.")
