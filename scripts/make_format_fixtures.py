#!/usr/bin/python3
"""Writes the small weight files that tests/formats/ reads, and the values they must hold.

Run with Debian's Python (it has PyTorch 1.13):  /usr/bin/python3 scripts/make_format_fixtures.py

Outputs, in tests/data/formats/:
  torch_dtypes.bin      torch.save'd dict with one tensor of every supported dtype (incl. 0-dim, empty)
  torch_views.bin       tensors sharing one storage: a slice with an offset, a transpose, a step, an expand
  torch_module.bin      nn.Module.state_dict(): an OrderedDict with _metadata set by BUILD, int64 buffer
  torch_parameter.bin   nn.Parameters next to plain values (int, str, None, float, list) that are skipped
  torch_protocol4.bin   pickle protocol 4 (STACK_GLOBAL, MEMOIZE, FRAME, SHORT_BINUNICODE)
  torch_nested.bin      a training checkpoint {"model": state_dict, "step": 3}, which is not a state dict
  torch_legacy.bin      the pre-1.6 format (_use_new_zipfile_serialization=False); the only file that
                        differs between runs (its storage keys are memory addresses)
  several.safetensors   several dtypes plus __metadata__, written by hand below (no safetensors package)
  expected.json         per file: format, metadata, and per tensor dtype, shape, strides, storage offset,
                        its elements in row-major order as hex bytes, and as numbers

The safetensors writer here is deliberately independent of the C++ one; the C++ tests check that
theirs produces the very same bytes for the same tensors.
"""
import collections
import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "formats")

ST_NAMES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def raw_bytes(t):
    """The elements of t in row-major order, as little-endian bytes."""
    flat = t.detach().contiguous().reshape(-1)
    if flat.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        flat = flat.view(torch.int16)
    return flat.numpy().tobytes()


def describe(name, t):
    t = t.detach()
    return {
        "name": name,
        "dtype": ST_NAMES[t.dtype],
        "shape": list(t.shape),
        "strides": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "hex": raw_bytes(t).hex(),
        "values": [v if not isinstance(v, bool) else int(v) for v in t.reshape(-1).tolist()],
    }


def tensors_of(state):
    return [(k, v) for k, v in state.items() if isinstance(v, torch.Tensor)]


def dtype_tensors():
    base = torch.tensor([[-1.5, 0.25, 3.0], [1e-3, -0.0, 65504.0]])
    return collections.OrderedDict([
        ("f32", base.clone()),
        ("f64", torch.tensor([1.0 / 3.0, -2.5e-300, 1e300], dtype=torch.float64)),
        ("f16", base.to(torch.float16)),
        ("bf16", torch.tensor([[1.0, -2.0], [0.0078125, 3.0e38]]).to(torch.bfloat16)),
        ("i64", torch.tensor([-(2**62), -1, 0, 2**62 + 5], dtype=torch.int64)),
        ("i32", torch.tensor([-(2**31), 7, 2**31 - 1], dtype=torch.int32)),
        ("i16", torch.tensor([-32768, 12345], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 0, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 200, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(2.75)),
        ("empty", torch.zeros(0, 4)),
    ])


def view_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return collections.OrderedDict([
        ("base", base),
        ("slice", base[1:3, 2:5]),         # offset 8, strides (6, 1)
        ("transposed", base.t()),          # strides (1, 6)
        ("every_other", base[:, ::2]),     # strides (6, 2)
        ("row", base[3]),                  # offset 18
        ("expanded", torch.arange(3, dtype=torch.int64).expand(2, 3)),  # stride 0
    ])


def module_state():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    state = model.state_dict()
    assert hasattr(state, "_metadata")
    return state


def parameter_state():
    return collections.OrderedDict([
        ("weight", torch.nn.Parameter(torch.tensor([[0.5, -1.0], [2.0, 4.0]]))),
        ("steps", 3),
        ("name", "gpt2"),
        ("nothing", None),
        ("lr", 1.5e-4),
        ("ids", [1, 2]),
        ("bias", torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]), requires_grad=False)),
    ])


def safetensors_tensors():
    return [
        ("wte.weight", torch.tensor([[0.5, -0.25, 8.0], [1e-8, 3.0, -7.5]], dtype=torch.float32)),
        ("ln.bias", torch.tensor([1.0, -1.0], dtype=torch.float16)),
        ("emb", torch.tensor([[2.0], [-0.5]], dtype=torch.bfloat16)),
        ("pos", torch.tensor([0, 1, 2**40], dtype=torch.int64)),
        ("mask", torch.tensor([[True, False]])),
        ("scale", torch.tensor(0.125, dtype=torch.float64)),
        ("none", torch.zeros(2, 0, dtype=torch.int32)),
        ("bytes", torch.tensor([1, 254, 7], dtype=torch.uint8)),
    ]


SAFETENSORS_METADATA = {"format": "pt", "note": "fixture"}


def write_safetensors(path, tensors, metadata):
    """safetensors by hand: u64 header length, JSON header padded with spaces to 8, data."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    offset, chunks = 0, []
    for name, t in tensors:
        data = raw_bytes(t)
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}

    def save(name, state, check=True):
        torch.save(state, os.path.join(OUT, name))
        if check:  # torch must read back what it wrote, so the fixture itself is sound
            torch.load(os.path.join(OUT, name))
        expected[name] = {"format": "torch-zip", "metadata": {},
                          "tensors": [describe(k, v) for k, v in tensors_of(state)]}

    save("torch_dtypes.bin", dtype_tensors())
    save("torch_views.bin", view_tensors())
    save("torch_module.bin", module_state())
    save("torch_parameter.bin", parameter_state())
    state = dtype_tensors()
    torch.save(state, os.path.join(OUT, "torch_protocol4.bin"), pickle_protocol=4)
    expected["torch_protocol4.bin"] = {"format": "torch-zip", "metadata": {},
                                       "tensors": [describe(k, v) for k, v in tensors_of(state)]}
    torch.save({"model": module_state(), "step": 3}, os.path.join(OUT, "torch_nested.bin"))
    torch.save(dtype_tensors(), os.path.join(OUT, "torch_legacy.bin"), _use_new_zipfile_serialization=False)

    tensors = safetensors_tensors()
    write_safetensors(os.path.join(OUT, "several.safetensors"), tensors, SAFETENSORS_METADATA)
    expected["several.safetensors"] = {"format": "safetensors", "metadata": SAFETENSORS_METADATA,
                                       "tensors": [describe(k, v) for k, v in tensors]}

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
