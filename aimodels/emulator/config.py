"""How an emulator instance behaves: timing, faults, persistence and fixtures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: How the emulator's Cognitive Services deployment writes answer (docs/emulator.md, fidelity):
#: ``headers`` gives every write an Azure-AsyncOperation (at ``…/operationResults/{id}``) and
#: Retry-After-Ms, so pollers finish fast; ``recorded`` answers as the live recordings do: a PUT
#: 201/200 with no LRO header and ``provisioningState: Accepted``, a DELETE 200 at once.
Fidelity = Literal["headers", "recorded"]
FIDELITY_MODES: tuple[Fidelity, ...] = ("headers", "recorded")


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Settings of one emulator, from `aimodels emulator serve` flags or the embedded target.

    ``lro_seconds`` is how long every long-running operation takes; ``fault_rate`` and
    ``throttle_rate`` are the shares of requests answered 500/503 and 429 (deterministic under
    ``seed``); ``data_dir`` None keeps everything in memory, else in SQLite under it;
    ``fidelity`` picks the LRO shape of Cognitive Services deployment writes (``Fidelity``).
    """

    lro_seconds: float = 2.0
    latency_ms: int = 0
    fault_rate: float = 0.0
    throttle_rate: float = 0.0
    seed: int = 0
    data_dir: Path | None = None
    fixtures_path: Path | None = None
    #: When set, SAS URIs point at this external blob endpoint (e.g. Azurite) instead of ours:
    #: (account URL such as http://127.0.0.1:10000/devstoreaccount1, account name, account key).
    external_blob: tuple[str, str, str] | None = None
    fidelity: Fidelity = "headers"
