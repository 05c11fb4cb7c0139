"""Writes cnn_grads.safetensors: PyTorch's gradients of the mean cross-entropy
of cnn.safetensors on the first 64 shipped training images (pixels / 255).

Run from this directory with PyTorch and NumPy installed (no safetensors
package needed, see common.py).
"""
import numpy as np
import torch, torch.nn.functional as F

from common import cnn, idx, read_safetensors, write_safetensors

model = cnn()
model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in read_safetensors("cnn.safetensors").items()})
x = torch.from_numpy(idx("../mnist/train-images-idx3-ubyte.gz")[:64].astype(np.float32) / 255).reshape(-1, 1, 28, 28)
y = torch.from_numpy(idx("../mnist/train-labels-idx1-ubyte.gz")[:64].astype(np.int64))
F.cross_entropy(model(x), y).backward()
write_safetensors("cnn_grads.safetensors", {k: p.grad.numpy() for k, p in model.named_parameters()})
