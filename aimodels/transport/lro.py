"""Long-running ARM operations: from the first response of a PUT, PATCH or DELETE to the final
resource body, the way azure-core's ARM poller does it.

The polling style is chosen from the first response, in this order:

1. ``Azure-AsyncOperation`` header: poll that URL until ``status`` is Succeeded, Failed or
   Canceled; then, for PUT and PATCH, GET the resource once for the final body.
2. ``Location`` header on a 202: poll it until it stops answering 202; for PUT, GET the resource.
3. ``provisioningState`` in the body (or a 201/202 with no body, or a DELETE's bare 202): GET
   the resource until the state is terminal (for DELETE: until it answers 404).
4. Otherwise the operation is already done and the first body is the result.

Between polls we wait what the server asks (``Retry-After-Ms``, ``x-ms-retry-after-ms``,
``Retry-After``), else ``LroPolicy.default_poll_interval``, with the client's injected sleeper.
An ``LroHandle`` is a plain value that can be saved (``to_dict``) so that a later process can
re-attach to an operation a crashed ``apply`` left running (``wait_for_lro``).

Once Azure has accepted the write, only Azure says how it ended. A poll or the final GET that
fails in passing (429, 5xx, a connection error or a timeout) is retried, honouring Retry-After
and else with backoff, for as long as the operation's deadline allows (``LroPolicy.timeout``
counted from ``started_at``), not for the client's usual few attempts. The operation fails on
a terminal Failed or Canceled, or on an error answer to a poll (a 404 of the operation, a
4xx: what azure-core's poller does too). At the deadline we raise ``OperationTimedOut``: not
a failure, since the operation may still be running, and the saved handle lets a later run
re-attach to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from aimodels.errors import RemoteError
from aimodels.transport.client import AzureClient
from aimodels.transport.config import Api
from aimodels.transport.errors import NotFoundError, arm_code_and_message, where
from aimodels.transport.response import Response
from aimodels.transport.retry import is_transient, retry_after_seconds

PollKind = Literal["async-operation", "location", "provisioning-state", "done"]
TERMINAL_STATES = frozenset({"succeeded", "failed", "canceled", "cancelled"})


class OperationTimedOut(RemoteError):
    """An operation did not end within ``LroPolicy.timeout`` of its write, or its status could
    not be read until then (the polls kept failing): Azure has not said how it ended, so it
    may still be running. Not a failed change: its handle lets a later run re-attach."""


@dataclass(frozen=True, slots=True)
class LroHandle:
    """Where an operation in flight can be watched: saved in state so it survives a crash.

    ``kind`` is the polling style, ``poll_url`` what to GET (the resource URL itself for
    ``provisioning-state``), ``resource_url`` the resource the operation acts on, ``method``
    the write that started it, ``started_at`` epoch seconds (the timeout counts from it).
    """

    kind: PollKind
    method: str
    resource_url: str
    poll_url: str
    started_at: float
    api: Api = "arm"

    def to_dict(self) -> dict[str, Any]:
        """The handle as JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LroHandle:
        """The handle ``to_dict`` wrote."""
        return cls(**data)

    @classmethod
    def from_response(cls, initial: Response, started_at: float, api: Api = "arm") -> LroHandle:
        """The handle for the first response of a write (its URL is the resource URL)."""
        kind, poll_url = _poll_style(initial)
        return cls(kind, initial.method, initial.url, poll_url, started_at, api)


def _poll_style(initial: Response) -> tuple[PollKind, str]:
    operation = initial.header("azure-asyncoperation")
    if operation:
        return "async-operation", operation
    location = initial.header("location")
    if location and initial.status == 202:
        return "location", location
    if initial.method == "DELETE":
        # azure-core calls a bare 202 done; we watch the resource until it is gone instead,
        # so the next plan does not find it half-deleted.
        return ("provisioning-state" if initial.status == 202 else "done"), initial.url
    state = _provisioning_state(initial.body)
    if (state and state.lower() not in TERMINAL_STATES) or (
        initial.status in (201, 202) and initial.body is None
    ):
        return "provisioning-state", initial.url
    return "done", initial.url


def running_state(body: Any) -> str | None:
    """The provisioningState of a resource body while an operation runs on it (``Updating``,
    ``Creating``...); None when it is terminal or absent, or there is no body."""
    state = _provisioning_state(body)
    return state if state and state.lower() not in TERMINAL_STATES else None


def _provisioning_state(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    properties = body.get("properties")
    state = properties.get("provisioningState") if isinstance(properties, dict) else None
    return str(state) if state is not None else None


async def complete_lro(
    client: AzureClient,
    initial: Response,
    *,
    api: Api = "arm",
    on_handle: Callable[[LroHandle], None] | None = None,
) -> Any:
    """Follow the operation ``initial`` started to its end and return the final body (None
    for a delete). ``on_handle`` gets the handle before the first poll, to be saved."""
    handle = LroHandle.from_response(initial, client.clock(), api)
    if handle.kind == "done":
        return None if handle.method == "DELETE" else initial.body
    if on_handle is not None:
        on_handle(handle)
    return await wait_for_lro(client, handle, first_delay=_delay(client, initial))


async def wait_for_lro(client: AzureClient, handle: LroHandle, *, first_delay: float = 0.0) -> Any:
    """Poll the operation ``handle`` describes until it ends; return the final body.

    Raises RemoteError when the operation fails or is canceled, or a poll gets an error
    answer; ``OperationTimedOut`` when it outlasts ``LroPolicy.timeout`` counted from
    ``handle.started_at`` (or its polls fail until then).
    """
    await _wait(client, handle, first_delay)
    if handle.kind == "async-operation":
        await _poll_operation(client, handle)
        return await _final_body(client, handle, None)
    if handle.kind == "location":
        last = await _poll_until(client, handle, lambda r: r.status != 202)
        return await _final_body(client, handle, last)
    if handle.kind == "provisioning-state":
        return await _poll_resource(client, handle)
    return None


async def _poll_operation(client: AzureClient, handle: LroHandle) -> None:
    last = await _poll_until(client, handle, lambda r: _status(r) in TERMINAL_STATES)
    status = _status(last)
    if status != "succeeded":
        code, message = arm_code_and_message(last.body, "")
        _raise_failed(handle, status, code, message)


async def _poll_resource(client: AzureClient, handle: LroHandle) -> Any:
    if handle.method == "DELETE":
        await _poll_until(client, handle, lambda r: r.status == 404, accept_missing=True)
        return None
    last = await _poll_until(client, handle, _is_terminal_resource)
    state = (_provisioning_state(last.body) or "Succeeded").lower()
    if state != "succeeded":
        code, message = arm_code_and_message(last.body, "")
        _raise_failed(handle, state, code, message)
    return last.body


def _is_terminal_resource(response: Response) -> bool:
    state = _provisioning_state(response.body)
    return state is None or state.lower() in TERMINAL_STATES


async def _final_body(client: AzureClient, handle: LroHandle, last: Response | None) -> Any:
    if handle.method == "DELETE":
        return None
    if handle.method == "PUT" or last is None:
        return (await _get(client, handle, handle.resource_url)).body
    return last.body


async def _poll_until(
    client: AzureClient,
    handle: LroHandle,
    done: Callable[[Response], bool],
    *,
    accept_missing: bool = False,
) -> Response:
    """GET ``handle.poll_url`` until ``done`` says so, waiting between polls."""
    while True:
        response = await _get(client, handle, handle.poll_url, accept_missing=accept_missing)
        if done(response):
            return response
        await _wait(client, handle, _delay(client, response))


async def _get(
    client: AzureClient, handle: LroHandle, url: str, *, accept_missing: bool = False
) -> Response:
    """GET ``url`` for the operation: a passing failure is retried until the deadline, when
    the operation has timed out; an error answer (a 404 unless ``accept_missing``) is raised."""
    deadline = handle.started_at + client.config.lro.timeout
    try:
        return await client.request(
            "GET", url, api=handle.api, add_api_version=False, deadline=deadline
        )
    except NotFoundError:
        if not accept_missing:
            raise
        return Response(404, url=url)
    except RemoteError as exc:
        if is_transient(exc.status, exc.code):
            raise _timed_out(client, handle, exc) from exc
        raise


def _delay(client: AzureClient, response: Response) -> float:
    asked = retry_after_seconds(response.headers, client.clock())
    return client.config.lro.default_poll_interval if asked is None else asked


async def _wait(client: AzureClient, handle: LroHandle, delay: float) -> None:
    if client.clock() + delay - handle.started_at > client.config.lro.timeout:
        raise _timed_out(client, handle)
    if delay > 0:
        await client.sleep(delay)


def _timed_out(
    client: AzureClient, handle: LroHandle, cause: RemoteError | None = None
) -> OperationTimedOut:
    unread = f" (its status could not be read: {cause.message})" if cause is not None else ""
    return OperationTimedOut(
        f"{where(handle.method, handle.resource_url)} did not finish within "
        f"{client.config.lro.timeout:g} s{unread}",
        hint="Azure has not said how it ended: it may still be running. The next "
        "`aimodels apply` re-attaches to it; `aimodels plan` shows where it stands.",
        code="OperationTimedOut",
    )


def _status(response: Response) -> str:
    body = response.body if isinstance(response.body, dict) else {}
    return str(body.get("status") or "").lower()


def _raise_failed(handle: LroHandle, status: str, code: str, message: str) -> None:
    default = "OperationCanceled" if status.startswith("cancel") else "OperationFailed"
    raise RemoteError(
        f"{where(handle.method, handle.resource_url)} {status}: "
        f"{code or default}: {message or 'no error message'}",
        code=code or default,
    )
