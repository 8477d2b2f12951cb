"""Upload progress as docs/uploads.md shows it: percent, bytes, speed, elapsed, ETA; off a
terminal a line at the start, a "still uploading" line every 30 s (ticks included), and one at
the end."""

from __future__ import annotations

import io
import time

from rich.console import Console

from aimodels.apply.events import ApplyEvent, Phase
from aimodels.apply.transfer import Transfer
from aimodels.model.address import ResourceAddress
from aimodels.render.apply_progress import ApplyProgress

LLAMA = ResourceAddress("CustomModel", "llama")
AT = time.mktime((2026, 11, 25, 10, 0, 0, 0, 0, -1))
GB = 1_000_000_000


def at(seconds: float, transfer: Transfer | None = None, message: str = "",
       phase: Phase = Phase.POLLING) -> ApplyEvent:
    return ApplyEvent(LLAMA, "create", phase, AT + seconds, seconds, message, transfer)


def moment(sent: float, seconds: float, resumed: int = 0) -> Transfer:
    return Transfer(int(68.5 * GB), int(sent * GB), resumed, seconds)


def test_a_transfer_reads_like_seed_000() -> None:
    shown = moment(23.3, 165).describe()
    assert shown == "34% (23.3 GB / 68.5 GB), 141.2 MB/s, elapsed 2m 45s, ETA 5m 20s"
    assert "resumed" in moment(10, 60, resumed=13 * GB).describe()
    assert Transfer(0).finished and Transfer(0).percent == 100.0


def test_off_a_terminal_an_upload_prints_start_every_30_s_and_end() -> None:
    stream = io.StringIO()
    with ApplyProgress(stream) as progress:
        progress(at(0, phase=Phase.STARTED))
        progress(at(1, message="68.5 GB of weights: about 8m 00s; keep this command running"))
        progress(at(1, moment(0, 0)))
        for second in range(2, 95):  # a moment each second, and the executor's 10 s ticks
            progress(at(second, moment(second * 0.14, second)))
            if second % 10 == 0:
                progress(at(second))
        progress(at(490, moment(68.5, 490)))
        progress(at(491, message="registering"))
        progress(at(492, phase=Phase.DONE))

    lines = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines[0] == "CustomModel/llama: creating"
    assert lines[1].startswith("CustomModel/llama: creating (1 s): 68.5 GB of weights")
    assert lines[2] == "CustomModel/llama: uploading 0% (0 B / 68.5 GB), elapsed 0s"
    still = [line for line in lines if "still uploading" in line]
    assert [line.split("]")[0] for line in still] == ["CustomModel/llama: [31s",
                                                       "CustomModel/llama: [1m 01s",
                                                       "CustomModel/llama: [1m 31s"]
    assert "ETA" in still[0] and "MB/s" in still[0] and "elapsed" not in still[0]
    assert lines[-3] == "CustomModel/llama: uploaded 68.5 GB in 8m 10s, 139.8 MB/s"
    assert lines[-2] == "CustomModel/llama: creating (491 s): registering"
    assert lines[-1] == "CustomModel/llama: created (492 s)"
    assert len(lines) == 9


def test_a_tick_keeps_saying_still_uploading_when_no_block_finishes() -> None:
    stream = io.StringIO()
    with ApplyProgress(stream) as progress:
        progress(at(0, phase=Phase.STARTED))
        progress(at(1, moment(0.1, 1)))
        for second in range(10, 90, 10):  # the executor's ticks: no block finishes
            progress(at(second))
    still = [line for line in stream.getvalue().splitlines() if "still uploading" in line]
    assert [line.split("[")[1].split("]")[0] for line in still] == ["40s", "1m 10s"]
    assert "elapsed" not in still[0]  # the bracket says it


def test_the_live_table_shows_a_bar_percent_speed_and_eta() -> None:
    progress = ApplyProgress(io.StringIO(), live=True, clock=lambda: AT + 165)
    progress(at(0, phase=Phase.STARTED))
    progress(at(165, moment(23.3, 165)))
    console = Console(file=io.StringIO(), width=160)
    console.print(progress.table())
    text = console.file.getvalue()  # type: ignore[attr-defined]

    assert "━━━━━━" in text and "34% (23.3 GB / 68.5 GB)" in text and "ETA 5m 20s" in text
