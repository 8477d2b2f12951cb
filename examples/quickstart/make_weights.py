"""Write tiny, valid safetensors weights for the quickstart's CustomModel (a few KB).

    python examples/quickstart/make_weights.py            # rewrites weights/tiny-llama.safetensors
    python make_weights.py --out other.safetensors --seed 7

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=20241120)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    blob = safetensors_bytes(args.seed)
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({len(blob)} bytes)")


if __name__ == "__main__":
    main()
