"""PyTorch implementations of the NumPy-named ops (inputs already promoted by zoo.ops)."""
import torch

from zoo.backend.torch.core import convert_to_tensor


def add(x1, x2):
    return torch.add(x1, x2)


def subtract(x1, x2):
    return torch.subtract(x1, x2)


def multiply(x1, x2):
    return torch.multiply(x1, x2)


def divide(x1, x2):
    return torch.true_divide(x1, x2)


def matmul(x1, x2):
    return torch.matmul(x1, x2)


def reshape(x, newshape):
    return torch.reshape(convert_to_tensor(x), tuple(newshape))
