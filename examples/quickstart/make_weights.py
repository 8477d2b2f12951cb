"""Write tiny, valid safetensors weights for the quickstart's CustomModel (a few KB).

    python examples/quickstart/make_weights.py            # rewrites weights/tiny-llama.safetensors
    python make_weights.py --out other.safetensors --seed 7
    python make_weights.py --out big.safetensors --size 5GiB   # a real-sized file, in no time

``--size`` writes a file of exactly that size instead: one uint8 tensor of zeros, left as a hole
in the file (sparse), so it takes no time and almost no disk to write, and reads as zeros.

The format (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian header
length N, then N bytes of JSON header ({tensor name: {dtype, shape, data_offsets}} plus optional
"__metadata__"), padded with spaces to a multiple of 8, then the raw tensor bytes, little-endian,
in header order. The values are deterministic (a small linear congruential generator), so running
the script again reproduces the committed file byte for byte. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path

#: A toy Llama-shaped model: vocabulary 64, hidden size 16, one layer.
TENSORS: dict[str, tuple[int, ...]] = {
    "model.embed_tokens.weight": (64, 16),
    "model.layers.0.self_attn.q_proj.weight": (16, 16),
    "model.layers.0.self_attn.k_proj.weight": (16, 16),
    "model.layers.0.self_attn.v_proj.weight": (16, 16),
    "model.layers.0.self_attn.o_proj.weight": (16, 16),
    "model.layers.0.mlp.up_proj.weight": (32, 16),
    "model.layers.0.mlp.down_proj.weight": (16, 32),
    "model.layers.0.input_layernorm.weight": (16,),
    "model.norm.weight": (16,),
}
METADATA = {"format": "pt", "model_type": "llama", "note": "aimodels quickstart toy weights"}
DEFAULT_OUT = Path(__file__).parent / "weights" / "tiny-llama.safetensors"


def values(count: int, state: int) -> tuple[list[float], int]:
    """``count`` floats in [-0.5, 0.5) from a 32-bit LCG, and the next state."""
    out = []
    for _ in range(count):
        state = (1664525 * state + 1013904223) % 2**32
        out.append(state / 2**32 - 0.5)
    return out, state


def safetensors_bytes(seed: int) -> bytes:
    """The whole file: header length, padded JSON header, float16 tensor data."""
    header: dict[str, object] = {"__metadata__": METADATA}
    data = bytearray()
    state = seed
    for name, shape in TENSORS.items():
        count = 1
        for dim in shape:
            count *= dim
        floats, state = values(count, state)
        start = len(data)
        data += struct.pack(f"<{count}e", *floats)
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [start, len(data)]}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data)


def sized_safetensors(path: Path, size: int) -> None:
    """A valid safetensors file of exactly ``size`` bytes: the header, then one uint8 tensor of
    zeros that is a hole in the file (nothing written)."""
    count = size
    while True:
        header = {"__metadata__": METADATA,
                  "weights": {"dtype": "U8", "shape": [count], "data_offsets": [0, count]}}
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        if 8 + len(text) + count == size:
            break
        count = size - 8 - len(text)
        if count < 0:
            raise SystemExit(f"--size {size} is smaller than the safetensors header")
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(text)) + text)
        out.truncate(size)


def parse_size(text: str) -> int:
    """Bytes from ``1536MiB``, ``5GiB`` or a plain number."""
    units = {"kib": 1024, "mib": 1024**2, "gib": 1024**3}
    lowered = text.strip().lower()
    for unit, factor in units.items():
        if lowered.endswith(unit):
            return int(float(lowered[:-len(unit)]) * factor)
    return int(lowered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=20241120)
    parser.add_argument("--size", type=parse_size, help="e.g. 5GiB: a sparse file of that size")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.size is not None:
        sized_safetensors(args.out, args.size)
        print(f"wrote {args.out} ({args.size} bytes, sparse)")
        return
    blob = safetensors_bytes(args.seed)
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({len(blob)} bytes)")


if __name__ == "__main__":
    main()
