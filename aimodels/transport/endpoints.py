"""Where a request goes: joining paths to each API's base URL, moving Azure hosts onto an
endpoint override, and adding the api-version each API expects.

Pure functions over strings (stdlib ``urllib.parse`` only), shared by the client and by the blob
uploader, which must send its SAS URLs to the same origin.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aimodels.transport.config import (
    ARM_API_VERSIONS,
    ARM_ORIGIN,
    INFERENCE_API_VERSION,
    Api,
    ClientConfig,
)

#: Hosts that belong to Azure: with an endpoint override, URLs on these move to the override.
AZURE_HOST_SUFFIXES = (".azure.com", ".windows.net", ".azure.net")

_PROVIDER = re.compile(r"/providers/([^/]+)/", re.IGNORECASE)


def is_azure_host(host: str) -> bool:
    """True for Azure-owned host names (management.azure.com, *.blob.core.windows.net, ...)."""
    host = host.lower()
    return any(host.endswith(suffix) for suffix in AZURE_HOST_SUFFIXES)


def rewrite_url(config: ClientConfig, url: str) -> str:
    """``url`` with its Azure origin replaced by the config's origin, path and query kept.

    Without an override, or for a non-Azure host (an emulator's own LRO URL, a weights URL),
    the URL is returned unchanged.
    """
    origin = config.origin
    parts = urlsplit(url)
    if origin is None or not is_azure_host(parts.hostname or ""):
        return url
    new = urlsplit(origin)
    return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, parts.fragment))


def base_url(config: ClientConfig, api: Api) -> str:
    """The base URL a relative path of ``api`` is joined to."""
    if config.origin is not None:
        return config.origin
    if api == "arm":
        return ARM_ORIGIN
    if api == "registry" and config.registry_endpoint:
        return config.registry_endpoint.rstrip("/")
    raise ValueError(f"a relative path needs a base URL for the {api} API; pass an absolute URL")


def resolve_url(config: ClientConfig, api: Api, url_or_path: str) -> str:
    """The absolute URL to send: paths joined to the API's base, Azure hosts rewritten."""
    if url_or_path.startswith(("http://", "https://")):
        return rewrite_url(config, url_or_path)
    if not url_or_path.startswith("/"):
        url_or_path = "/" + url_or_path
    return base_url(config, api) + url_or_path


def api_version_for(api: Api, url: str) -> str | None:
    """The api-version to add to ``url``, or None when it needs none.

    ARM versions depend on the resource provider named in the path; an ARM path that names
    none we know is a bug in the caller, so it raises instead of guessing.
    """
    if api == "inference":
        return INFERENCE_API_VERSION
    if api != "arm":
        return None
    providers = _PROVIDER.findall(urlsplit(url).path + "/")
    if not providers:
        raise ValueError(f"no resource provider in ARM path {urlsplit(url).path!r}")
    version = ARM_API_VERSIONS.get(providers[-1].lower())
    if version is None:
        raise ValueError(f"no api-version known for provider {providers[-1]!r}")
    return version


def with_api_version(api: Api, url: str) -> str:
    """``url`` with ``api-version`` added, unless it already carries one (LRO and nextLink URLs
    do, and their version must be kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key.lower() == "api-version" for key, _ in query):
        return url
    version = api_version_for(api, url)
    if version is None:
        return url
    # Appended as text so the existing query keeps its exact encoding.
    extra = urlencode({"api-version": version})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))
