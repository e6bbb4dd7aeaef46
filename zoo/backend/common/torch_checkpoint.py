"""Read PyTorch pickle checkpoints (``pytorch_model.bin``) for conversion scripts only.

Only called when a caller passed ``allow_pickle=True``. ``torch.load(weights_only=True)``
unpickles tensors and plain containers only (no arbitrary objects); torch is imported here,
lazily, so the rest of zoo never needs it.
"""
import numpy as np


class TorchStateDict:
    """{key: np.ndarray} view of one or more state-dict files; converts on access."""

    def __init__(self, tensors):
        self._tensors = tensors

    def keys(self):
        return self._tensors.keys()

    def __iter__(self):
        return iter(self._tensors)

    def __len__(self):
        return len(self._tensors)

    def __contains__(self, key):
        return key in self._tensors

    def shape(self, key):
        """The tensor's shape (no copy)."""
        return tuple(self._tensors[key].shape)

    def __getitem__(self, key):
        import torch

        tensor = self._tensors[key].detach()
        if tensor.dtype == torch.bfloat16:
            import ml_dtypes

            return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16).copy()
        return np.array(tensor.numpy(), copy=True)


def load_state_dict(paths):
    """Load the tensors of ``paths`` with ``torch.load(weights_only=True)`` (memory-mapped
    when the file format allows it)."""
    import torch

    tensors = {}
    for path in paths:
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # legacy (non-zip) format cannot be memory-mapped
            loaded = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(loaded, dict) and "state_dict" in loaded and len(loaded) <= 3:
            loaded = loaded["state_dict"]
        if not isinstance(loaded, dict):
            raise ValueError(f"{path!r} does not hold a state dict (got "
                             f"{type(loaded).__name__}).")
        for key, value in loaded.items():
            if torch.is_tensor(value):
                tensors[key] = value
    return TorchStateDict(tensors)


def load_checkpoint(path):
    """One file's ``torch.load(weights_only=True)`` object (memory-mapped when the format
    allows it), with every dict of tensors in it (at any depth) a TorchStateDict of its
    tensor entries and every other value as it is: for formats that keep more than a state
    dict (openai-whisper's ``{"dims": {...}, "model_state_dict": {...}}``)."""
    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # legacy (non-zip) format cannot be memory-mapped
        loaded = torch.load(path, map_location="cpu", weights_only=True)

    def wrap(value):
        if isinstance(value, dict):
            if any(torch.is_tensor(v) for v in value.values()):
                return TorchStateDict({k: v for k, v in value.items() if torch.is_tensor(v)})
            return {k: wrap(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(wrap(v) for v in value)
        return value

    return wrap(loaded)

