"""How the client talks to Azure: the frozen configuration, and the per-API tables (scopes,
api-versions, base URLs) kept in one place.

Nothing here does I/O or imports httpx, so the CLI can build a config cheaply.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from aimodels import __version__
from aimodels.errors import UsageError

#: The three HTTP APIs aimodels calls. Blob uploads go through azure-storage-blob with a SAS
#: instead; they share only the endpoint rewriting (``endpoints.rewrite_url``).
Api = Literal["arm", "registry", "inference"]
Target = Literal["local", "azure"]

ARM_ORIGIN = "https://management.azure.com"

#: The origin the in-process emulator answers on when ``target: local`` gives no endpoint: the
#: caller passes ``httpx.ASGITransport(app)``, so this name never reaches DNS.
LOCAL_ORIGIN = "http://aimodels-emulator.local"

#: The bearer token sent to the emulator (local target, or any explicit endpoint).
LOCAL_DEV_TOKEN = "aimodels-local-dev-token"

#: The Entra ID scope of each API's bearer token.
SCOPES: Mapping[Api, str] = {
    "arm": "https://management.azure.com/.default",
    "registry": "https://cognitiveservices.azure.com/.default",
    "inference": "https://cognitiveservices.azure.com/.default",
}

#: ARM api-version per resource provider namespace (the last ``/providers/<ns>/`` of a path).
ARM_API_VERSIONS: Mapping[str, str] = {
    "microsoft.containerservice": "2026-08-02-preview",
    "microsoft.cognitiveservices": "2025-09-01",
}

#: api-version of the OpenAI-compatible inference API (Azure OpenAI's GA data plane).
INFERENCE_API_VERSION = "2024-10-21"

ENDPOINT_ENV = "AIMODELS_ENDPOINT"

#: What a person is told to give as an endpoint.
ENDPOINT_HINT = (
    "Give the origin of an `aimodels emulator serve` (its first line prints it), e.g. "
    "--endpoint http://127.0.0.1:8080, or unset AIMODELS_ENDPOINT to call Azure."
)

# A DNS name (labels of letters, digits, hyphens, underscores) or an IPv4 address.
_HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*"
                        r"[A-Za-z0-9_])?)*\.?")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to retry a failed request (the rules: ``transport/retry.py``).

    Delays grow as ``base_delay * 2**n`` capped at ``max_delay``, drawn with full jitter,
    unless the server says how long to wait (Retry-After and friends). We stop after
    ``max_attempts`` failed sends, ``max_unanswered`` of them without an answer at all (an
    endpoint that cannot be reached fails in seconds), or ``max_paced`` 429/503 answers (the
    service pacing us, the request not processed: they do not count as failures), or when the
    next wait would pass ``total_budget`` seconds since the first send, whichever comes first.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    total_budget: float = 120.0
    max_paced: int = 20
    max_unanswered: int = 4


@dataclass(frozen=True, slots=True)
class LroPolicy:
    """How long-running operations are polled: the wait when the server names none, and the
    time after which we give up waiting (the operation may still finish in Azure)."""

    default_poll_interval: float = 5.0
    timeout: float = 3600.0


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything the transport needs to know, built once per command.

    ``endpoint`` is an origin (``http://127.0.0.1:8080``) that replaces every Azure host, which is
    how the emulator is reached; ``registry_endpoint`` is the custom-model registry's base URL
    on real Azure (from the Stack). Not for per-request options: pass those to ``request``.
    """

    target: Target = "azure"
    endpoint: str | None = None
    registry_endpoint: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lro: LroPolicy = field(default_factory=LroPolicy)
    max_concurrency: int = 16
    user_agent: str = f"aimodels/{__version__}"

    def __post_init__(self) -> None:
        if self.endpoint is not None:
            object.__setattr__(self, "endpoint", checked_endpoint(self.endpoint))

    @property
    def origin(self) -> str | None:
        """The origin every API is sent to, or None to call the real Azure hosts."""
        if self.endpoint:
            return self.endpoint.rstrip("/")
        return LOCAL_ORIGIN if self.target == "local" else None

    @property
    def uses_azure_identity(self) -> bool:
        """True when requests need real Entra ID tokens (azure target, no endpoint override)."""
        return self.origin is None

    @classmethod
    def from_env(cls, target: Target, environ: Mapping[str, str] | None = None) -> ClientConfig:
        """The config for ``target``, with ``AIMODELS_ENDPOINT`` as the endpoint when set."""
        env = os.environ if environ is None else environ
        endpoint = env.get(ENDPOINT_ENV) or None
        return cls(target=target, endpoint=endpoint)


def checked_endpoint(raw: str) -> str:
    """The endpoint override as an origin (``http://127.0.0.1:8080``), or UsageError (exit 64).

    Refused: a scheme other than http(s), no host or a malformed one, a port outside 1-65535,
    a path, query or fragment (every API is called at the origin's root, so a path would be
    dropped from some URLs and kept in others), and credentials in the URL (aimodels sends its
    own; the message shows the URL with the password replaced, never the password).
    """
    text = raw.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # an unclosed IPv6 bracket ("http://[::1"); the URL is not shown:
        # it may carry a password that _without_password cannot find in what does not parse.
        raise UsageError(f"{ENDPOINT_ENV} (or --endpoint) is not a valid URL: {exc}",
                         hint=ENDPOINT_HINT) from None
    shown = f"{ENDPOINT_ENV} (or --endpoint) {_without_password(parts)!r}"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{shown} is not an http:// or https:// URL", hint=ENDPOINT_HINT)
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{shown} carries credentials (user:password@): refused",
                         hint="aimodels authenticates by itself (a dev token for the emulator, "
                         "azure-identity for Azure): remove them from the URL. " + ENDPOINT_HINT)
    if not _is_host(parts.hostname or ""):
        raise UsageError(f"{shown} has no valid host name", hint=ENDPOINT_HINT)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise UsageError(f"{shown} has an invalid port: ports run from 1 to 65535",
                         hint=ENDPOINT_HINT)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"{shown} has a path, query or fragment; give only scheme, host and port",
                         hint=ENDPOINT_HINT)
    return f"{parts.scheme.lower()}://{parts.netloc}"


def plain_http_warning(endpoint: str | None) -> str | None:
    """A warning when the endpoint is plain http to a host that is not this machine, else None.

    Every request body then crosses the network unencrypted: the ModelSource secrets apply
    sends, the API keys ``chat`` sends. aimodels sends no Entra ID token to an endpoint override
    (only the emulator's dev token), so, unlike azure-core with bearer tokens, we warn rather
    than refuse: an emulator in another container is a fair use.
    """
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return None
    return (f"{ENDPOINT_ENV} {endpoint} is plain http to another machine: request bodies (a "
            "ModelSource's secret on apply, API keys on chat) cross the network unencrypted; "
            "use https, or an emulator on 127.0.0.1")


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST_NAME.fullmatch(host))
    return True


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _without_password(parts: SplitResult) -> str:
    """The URL as given, its password (if any) replaced: fit to print."""
    if parts.password is None:
        return parts.geturl()
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:REDACTED@{host}").geturl()
