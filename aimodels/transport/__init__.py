"""The one HTTP seam: an async httpx client with azure-identity credentials, retries, ARM
errors mapped to ours, and LRO helpers. The only package that imports httpx or azure-identity."""
