"""Reaching a storage account: a container client for an account URL, with the credential
aimodels uses there.

The credential is, in order:

1. ``AZURE_STORAGE_CONNECTION_STRING`` when it is set (the Azure CLI's convention, and how
   Azurite is reached): its ``AccountKey`` or ``SharedAccessSignature``. It must be for the
   account of the URL (its ``AccountName`` and ``BlobEndpoint``, when given, are compared),
   so a connection string left over from another project is refused, not used;
2. otherwise azure-identity's ``DefaultAzureCredential`` (``az login``, a managed identity,
   workload identity federation in CI), which Azure only accepts over https.

Account URLs are ``https://<account>.blob.core.windows.net`` or, for Azurite, the path-style
``http://127.0.0.1:PORT/<account>`` (plain http only on the loopback interface). Neither the
connection string nor the key ever appears in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from azure.storage.blob import ContainerClient, LinearRetry

from aimodels.errors import AuthError, UsageError
from aimodels.transport.redact import register_secret

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
#: Azurite's well-known development account (public, documented by Microsoft).
DEV_ACCOUNT = "devstoreaccount1"
DEV_ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
                   "KBHBeksoGMGw==")

_AZURE_URL = re.compile(r"^https://([a-z0-9]{3,24})\.blob\.core\.windows\.net/?$")
_LOOPBACK_URL = re.compile(r"^https?://(127\.0\.0\.1|localhost)(:[0-9]+)?/([a-z0-9]{3,24})/?$")

#: Three tries a second apart: an unreachable account fails in seconds, not minutes (the
#: storage SDK's default backs off from 15 s), and a lease is renewed well within its time.
RETRY_TOTAL = 3
RETRY_BACKOFF = 1
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60


def account_name(account_url: str) -> str:
    """The storage account of a valid account URL (the host's first label, or the first
    path segment of a path-style loopback URL); UsageError for any other URL."""
    for pattern, group in ((_AZURE_URL, 1), (_LOOPBACK_URL, 3)):
        found = pattern.match(account_url)
        if found:
            return found.group(group)
    raise UsageError(
        f"{account_url} is not a storage account URL aimodels accepts",
        hint="Use https://<account>.blob.core.windows.net, or for Azurite "
             "http://127.0.0.1:10000/devstoreaccount1.")


def container_client(account_url: str, container: str, env: Mapping[str, str],
                     credential_factory: Any = None) -> ContainerClient:
    """The client of ``container`` in the account at ``account_url`` (no request is sent
    yet). ``credential_factory`` replaces DefaultAzureCredential (tests)."""
    name = account_name(account_url)
    connection = env.get(CONNECTION_STRING_ENV, "").strip()
    if connection:
        register_secret(connection)  # and its key or SAS, below: scrubbed from any output
        credential = connection_credential(connection, account_url, name)
    elif urlsplit(account_url).scheme == "http":
        raise AuthError(
            f"The storage account {account_url} is reached over http, where Azure "
            "credentials are never sent",
            hint=f"For Azurite, set {CONNECTION_STRING_ENV} (Azurite's documented "
                 "development account key, or UseDevelopmentStorage=true on its default "
                 "port).")
    else:
        credential = (credential_factory or _default_credential)()
    return ContainerClient(
        account_url.rstrip("/"), container, credential=credential,
        retry_policy=LinearRetry(backoff=RETRY_BACKOFF, retry_total=RETRY_TOTAL,
                                 random_jitter_range=0),
        connection_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)


def connection_credential(connection: str, account_url: str, account: str) -> Any:
    """The credential in a connection string for ``account``; AuthError naming what does
    not fit (never the string itself: it holds the key)."""
    fields = parse_connection_string(connection)
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        # Azurite's account on whichever port the URL names (its default is 10000).
        fields = {"accountname": DEV_ACCOUNT, "accountkey": DEV_ACCOUNT_KEY, **fields}
    named = fields.get("accountname")
    endpoint = fields.get("blobendpoint", "").rstrip("/")
    if (named and named != account) or (endpoint and endpoint != account_url.rstrip("/")):
        found = endpoint or f"account {named}"
        raise AuthError(
            f"{CONNECTION_STRING_ENV} is for {found}, but the state is in "
            f"{account_url.rstrip('/')}",
            hint=f"Set {CONNECTION_STRING_ENV} for that account, or unset it to sign in with "
                 "DefaultAzureCredential (az login).")
    for secret in ("accountkey", "sharedaccesssignature"):
        register_secret(fields.get(secret))
    if fields.get("accountkey"):
        return {"account_name": named or account, "account_key": fields["accountkey"]}
    if fields.get("sharedaccesssignature"):
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(fields["sharedaccesssignature"].lstrip("?"))
    raise AuthError(f"{CONNECTION_STRING_ENV} holds neither an AccountKey nor a "
                    "SharedAccessSignature",
                    hint="Copy the account's connection string again (az storage account "
                         "show-connection-string), or unset it to use az login.")


def parse_connection_string(connection: str) -> dict[str, str]:
    """``Key=Value;...`` with lower-case keys (values keep their ``=``, as keys end in them)."""
    fields = {}
    for part in connection.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            fields[key.strip().lower()] = value.strip()
    return fields


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential  # slow import: only when needed

    return DefaultAzureCredential()


def blob_url(container_url: str, blob_name: str) -> str:
    """The blob's URL: the container URL's path + the blob name, with the container's SAS."""
    parts = urlsplit(container_url)
    path = f"{parts.path.rstrip('/')}/{quote(blob_name, safe='/~')}"
    return parts._replace(path=path).geturl()
