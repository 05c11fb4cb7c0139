"""Writes cnn_grads.safetensors: PyTorch's gradients of the mean cross-entropy
of cnn.safetensors on the first 64 shipped training images (pixels / 255).

Run from this directory with PyTorch and NumPy installed (no safetensors
package needed: the format is an 8-byte header length, a JSON header, and
the raw little-endian tensors).
"""
import gzip, json, struct
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], "<f4").reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array, "<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob); offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text); f.writelines(blobs)


def idx(path):
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


model = nn.Sequential(
    nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in read_safetensors("cnn.safetensors").items()})
x = torch.from_numpy(idx("../mnist/train-images-idx3-ubyte.gz")[:64].astype(np.float32) / 255).reshape(-1, 1, 28, 28)
y = torch.from_numpy(idx("../mnist/train-labels-idx1-ubyte.gz")[:64].astype(np.int64))
F.cross_entropy(model(x), y).backward()
write_safetensors("cnn_grads.safetensors", {k: p.grad.numpy() for k, p in model.named_parameters()})
