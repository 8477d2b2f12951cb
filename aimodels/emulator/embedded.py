"""The embedded emulator behind ``target: local``: started in-process for one command.

It serves on a loopback port (azure-storage-blob needs a real socket for SAS uploads) and keeps
its data in SQLite under ``.aimodels/emulator/`` beside the Stack file, so resources, ETags and
long-running operations carry over from one command to the next, as they would in Azure. The
parents a Stack names (resource group, AI manager with the namespaces default/dev/staging/prod,
Foundry account) are created when missing: with no Azure account there is nowhere else they
could come from.
"""

from __future__ import annotations

from collections.abc import Iterable

from aimodels.emulator.cognitiveservices.common import seed_account
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.containerservice.parents import seed_parents
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.model.desired import Stack

#: Long-running operations take this long on the embedded target: long enough to see progress,
#: short enough for a first apply to feel quick.
EMBEDDED_LRO_SECONDS = 3.0


def start_embedded(stack: Stack, ai_managers: Iterable[str] = (), accounts: Iterable[str] = (),
                   lro_seconds: float = EMBEDDED_LRO_SECONDS) -> RunningEmulator:
    """Start the Stack's emulator and make the named parents exist (the Stack's defaults plus
    ``ai_managers`` and ``accounts`` that resources name); the caller must ``stop()`` it."""
    config = EmulatorConfig(lro_seconds=lro_seconds, data_dir=stack.data_dir / "emulator")
    running = start_in_thread(config)
    emu = running.emulator
    for ai_manager in sorted({name for name in (stack.ai_manager, *ai_managers) if name}):
        seed_parents(emu, stack.subscription_id, stack.resource_group, stack.location, ai_manager)
    for account in sorted({name for name in (stack.foundry_account, *accounts) if name}):
        seed_account(emu, stack.subscription_id, stack.resource_group, account, stack.location)
    return running
