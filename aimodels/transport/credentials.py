"""Bearer tokens for each API: a static dev token for the emulator, Entra ID tokens from
azure-identity's ``DefaultAzureCredential`` for real Azure.

azure-identity is imported only when a real token is first needed: it is slow to import and
the local target never needs it. We use the sync credential in a worker thread (the async one
needs aiohttp, which we do not ship), cache a token per scope, and refresh it five minutes
before it expires. A scope whose first token could not be had fails at once for the rest of
the command: sixteen requests in flight make one attempt and one error, not sixteen.

Every token we get, and the service principal's secret azure-identity reads from the
environment, is registered as a known secret (``redact.register_secret``). What
azure-identity logs goes to the debug log, not the terminal (``cli/debuglog.py``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aimodels.errors import AuthError
from aimodels.transport.config import LOCAL_DEV_TOKEN
from aimodels.transport.errors import AUTH_HINT
from aimodels.transport.redact import register_secret

#: Refresh a cached token this many seconds before it expires.
REFRESH_MARGIN = 300.0

#: Environment variables azure-identity reads a secret from (EnvironmentCredential and co.).
IDENTITY_SECRET_VARIABLES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
                             "AZURE_PASSWORD")


class TokenSource(Protocol):
    """Where the client gets the bearer token for a scope."""

    async def token(self, scope: str) -> str:
        """A valid bearer token for ``scope``; raises AuthError when none can be had."""
        ...

    def close(self) -> None:
        """Release what the source holds (credential caches, HTTP sessions)."""
        ...


@dataclass(frozen=True, slots=True)
class StaticTokenSource:
    """The same token for every scope: the emulator accepts any bearer token."""

    value: str = LOCAL_DEV_TOKEN

    async def token(self, scope: str) -> str:
        return self.value

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _CachedToken:
    value: str
    expires_on: float


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential  # slow import: only on target azure

    for name in IDENTITY_SECRET_VARIABLES:
        register_secret(os.environ.get(name))
    return DefaultAzureCredential()


class AzureIdentityTokenSource:
    """Entra ID tokens from an azure-identity credential, cached per scope.

    ``credential_factory`` builds the credential on first use (default:
    ``DefaultAzureCredential``); tests pass one returning a fake with ``get_token``.
    """

    def __init__(
        self,
        credential_factory: Callable[[], Any] = _default_credential,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._factory = credential_factory
        self._clock = clock
        self._credential: Any = None
        self._cache: dict[str, _CachedToken] = {}
        self._failed: dict[str, AuthError] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, scope: str) -> str:
        cached = self._cache.get(scope)
        if cached and cached.expires_on - REFRESH_MARGIN > self._clock():
            return cached.value
        # One refresh per scope at a time: sixteen concurrent requests make one token call.
        async with self._locks.setdefault(scope, asyncio.Lock()):
            if scope in self._failed:
                raise self._failed[scope]
            cached = self._cache.get(scope)
            if cached and cached.expires_on - REFRESH_MARGIN > self._clock():
                return cached.value
            try:
                fresh = await asyncio.to_thread(self._get_token, scope)
            except AuthError as exc:
                if scope not in self._cache:  # never had one: no credential; a refresh may
                    self._failed[scope] = exc  # fail for a passing reason, so it is retried
                raise
            self._cache[scope] = fresh
            return fresh.value

    def _get_token(self, scope: str) -> _CachedToken:
        from azure.core.exceptions import ClientAuthenticationError

        try:
            if self._credential is None:
                self._credential = self._factory()
            access = self._credential.get_token(scope)
        except ClientAuthenticationError as exc:  # CredentialUnavailableError is a subclass
            raise AuthError(
                f"Could not get an Azure token for {scope}: {_first_line(exc)}", hint=AUTH_HINT
            ) from exc
        register_secret(access.token)
        return _CachedToken(access.token, float(access.expires_on))

    def close(self) -> None:
        if self._credential is not None and hasattr(self._credential, "close"):
            self._credential.close()


def _first_line(exc: BaseException) -> str:
    # DefaultAzureCredential's message lists every credential it tried over many lines.
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
