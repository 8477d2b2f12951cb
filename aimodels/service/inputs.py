"""What the planner needs from this machine but may not read itself (it is pure): the content
hashes of CustomModel weights and the keyed digests of the secrets resources reference.

Secrets are read from the environment here, turned into digests at once, and never kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState
from aimodels.model.kinds import CUSTOM_MODEL, MODEL_SOURCE
from aimodels.plan.values import ResolvedInputs, Weights
from aimodels.providers.modelsource import SECRET_PATH
from aimodels.state.values import State

_CHUNK = 4 * 1024 * 1024


def resolve_inputs(desired: DesiredState, state: State, env: Mapping[str, str]) -> ResolvedInputs:
    """Hash every local CustomModel path and digest every referenced secret."""
    weights = {r.address: w for r in desired.of_kind(CUSTOM_MODEL)
               if (w := hash_weights(r)) is not None}
    digests = {r.address: d for r in desired.of_kind(MODEL_SOURCE)
               if (d := _credential_digest(r, state, env))}
    return ResolvedInputs(weights=weights, secret_digests=digests)


def secret_values(desired: DesiredState, env: Mapping[str, str]
                  ) -> dict[ResourceAddress, dict[str, str]]:
    """The secret values apply sends (``credential`` of ModelSources), read from the environment."""
    values = {}
    for resource in desired.of_kind(MODEL_SOURCE):
        name = (resource.spec.get("credential") or {}).get("fromEnv")
        if name and env.get(name):
            values[resource.address] = {SECRET_PATH: env[name]}
    return values


def hash_weights(resource: DesiredResource) -> Weights | None:
    """sha256 and size of a CustomModel's local file or folder (None for an https:// source).

    A folder hashes as the list of its files (relative path, size, sha256), so a rename counts
    as a change.
    """
    raw = str(resource.spec.get("path", ""))
    if raw.startswith(("https://", "http://")) or not raw:
        return None
    path = (resource.base_dir / raw).resolve()
    if path.is_file():
        digest, size = _hash_file(path)
        return Weights(digest, size, detect_format(path))
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = hashlib.sha256()
    total = 0
    for file in files:
        digest, size = _hash_file(file)
        total += size
        listing.update(f"{file.relative_to(path).as_posix()}\0{size}\0{digest}\n".encode())
    formats = {f for file in files if (f := detect_format(file))}
    return Weights(listing.hexdigest(), total, formats.pop() if len(formats) == 1 else None)


def detect_format(path: Path) -> str | None:
    """The weights format told by the file's first bytes (safetensors, gguf, pytorch zip)."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(b"PK\x03\x04"):
        return "pytorch"
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"
    return None


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _credential_digest(resource: DesiredResource, state: State,
                       env: Mapping[str, str]) -> dict[str, str]:
    name = (resource.spec.get("credential") or {}).get("fromEnv")
    value = env.get(name) if name else None
    return {SECRET_PATH: state.secret_digest(value)} if value else {}
