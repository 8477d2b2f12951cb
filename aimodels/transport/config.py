"""How the client talks to Azure: the frozen configuration, and the per-API tables (scopes,
api-versions, base URLs) kept in one place.

Nothing here does I/O or imports httpx, so the CLI can build a config cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from aimodels import __version__

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

#: api-version of the OpenAI-compatible inference API (seed 002).
INFERENCE_API_VERSION = "2024-10-21"

ENDPOINT_ENV = "AIMODELS_ENDPOINT"


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
    def from_env(
        cls, target: Target, environ: Mapping[str, str] | None = None, **kwargs: object
    ) -> ClientConfig:
        """The config for ``target``, with ``AIMODELS_ENDPOINT`` as the endpoint when set."""
        env = os.environ if environ is None else environ
        endpoint = env.get(ENDPOINT_ENV) or None
        return cls(target=target, endpoint=endpoint, **kwargs)  # type: ignore[arg-type]
