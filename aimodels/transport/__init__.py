"""The one HTTP seam: an async httpx client with azure-identity credentials, retries, ARM
errors mapped to ours, and LRO helpers. The only package that imports httpx or azure-identity.

Modules: ``config`` (ClientConfig, per-API scopes and api-versions), ``endpoints`` (URL
resolution and the endpoint override), ``client`` (AzureClient), ``response`` (Response),
``errors`` (the one mapping of failures), ``retry``, ``credentials``, ``redact``, ``lro``.
Nothing is re-exported here, so importing ``aimodels.transport.config`` stays cheap for the CLI.
"""
