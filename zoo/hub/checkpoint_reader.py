"""Read tensors from a Hugging Face checkpoint one at a time, as NumPy arrays.

``CheckpointReader(directory)`` finds ``model.safetensors`` or the shards listed in
``model.safetensors.index.json`` and reads each tensor on request through safetensors'
NumPy API (memory-mapped, one tensor per mapping so read pages do not accumulate in
resident memory; bfloat16 comes back as ``ml_dtypes.bfloat16``). Pickle
checkpoints (``pytorch_model.bin``, ``*.pt``) are refused unless ``allow_pickle=True``,
in which case zoo/backend/common/torch_checkpoint.py loads them with
``torch.load(weights_only=True)``.

Converters take any mapping-like reader: ``keys()``, ``key in reader``, ``reader[key]``;
a plain dict of NumPy arrays works too.
"""
import json
import os

SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "model.bin")


class MissingTensorError(KeyError):
    def __str__(self):  # KeyError would quote the whole message
        return str(self.args[0])


def _pickle_files(directory):
    return sorted(name for name in os.listdir(directory)
                  if name in PICKLE_FILES or name.endswith((".bin", ".pt", ".pth", ".ckpt"))
                  and not name.startswith("."))


class CheckpointReader:
    """Lazy tensor access to a checkpoint directory (or one ``.safetensors`` file)."""

    def __init__(self, path, allow_pickle=False):
        import ml_dtypes  # noqa: F401  (registers bfloat16 with NumPy for safetensors)

        self.path = os.path.abspath(path)
        self._pickled = None
        if os.path.isfile(self.path):
            directory, files = os.path.dirname(self.path), [self.path]
        else:
            directory = self.path
            files = self._safetensors_files(directory)
        self.directory = directory
        if files is None:
            pickles = _pickle_files(directory)
            if not pickles:
                raise FileNotFoundError(
                    f"No weights in {directory!r}: expected {SAFETENSORS} or "
                    f"{SAFETENSORS_INDEX}.")
            if not allow_pickle:
                raise ValueError(
                    f"{directory!r} holds only pickle weights ({', '.join(pickles)}); zoo does "
                    f"not load pickle files, which can run code. Convert the checkpoint to "
                    f"safetensors, or (conversion scripts only, for a source you trust) pass "
                    f"allow_pickle=True to load it with torch.load(weights_only=True).")
            from zoo.backend.common import torch_checkpoint

            self._pickled = torch_checkpoint.load_state_dict(
                [os.path.join(directory, name) for name in pickles if name.endswith(
                    (".bin", ".pt", ".pth", ".ckpt"))])
            self._key_to_file = {key: pickles[0] for key in self._pickled}
            return
        self._key_to_file = {}
        for file in files:
            with self._open(file) as handle:
                for key in handle.keys():
                    self._key_to_file.setdefault(key, file)

    def _safetensors_files(self, directory):
        index = os.path.join(directory, SAFETENSORS_INDEX)
        if os.path.isfile(index):
            try:
                with open(index, encoding="utf-8") as f:
                    weight_map = json.load(f)["weight_map"]
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{index!r} is not a valid safetensors index ({error}).") \
                    from None
            files = []
            for name in dict.fromkeys(weight_map.values()):
                if os.path.basename(name) != name or name.startswith("."):
                    raise ValueError(f"{index!r} names a file outside its directory: {name!r}")
                full = os.path.join(directory, name)
                if not os.path.isfile(full):
                    raise FileNotFoundError(f"Checkpoint shard {name!r} listed in {index!r} "
                                            f"is missing.")
                files.append(full)
            return files
        single = os.path.join(directory, SAFETENSORS)
        return [single] if os.path.isfile(single) else None

    def _open(self, file):
        from safetensors import safe_open

        try:
            return safe_open(file, framework="numpy")
        except Exception as error:  # safetensors raises its own error types
            raise ValueError(f"{file!r} is not a readable safetensors file "
                             f"({type(error).__name__}: {error}).") from None

    def keys(self):
        return list(self._key_to_file)

    def __iter__(self):
        return iter(self._key_to_file)

    def __len__(self):
        return len(self._key_to_file)

    def __contains__(self, key):
        return key in self._key_to_file

    def __getitem__(self, key):
        file = self._key_to_file.get(key)
        if file is None:
            raise MissingTensorError(
                f"Tensor {key!r} is not in the checkpoint {self.path!r} "
                f"({len(self._key_to_file)} tensors; e.g. {sorted(self._key_to_file)[:5]}).")
        if self._pickled is not None:
            return self._pickled[key]
        try:
            # A fresh memory map per tensor: pages of the file touched for earlier tensors
            # are unmapped again, so they do not add up in the process's resident memory.
            with self._open(file) as handle:
                return handle.get_tensor(key)
        except Exception as error:
            raise ValueError(f"Reading tensor {key!r} from {file!r} failed "
                             f"({type(error).__name__}: {error}).") from None

    def shape(self, key):
        """The shape of tensor ``key``, read from the file's header (no data is read)."""
        if key not in self._key_to_file:
            self[key]  # raises MissingTensorError naming the checkpoint
        if self._pickled is not None:
            return tuple(self._pickled[key].shape)
        with self._open(self._key_to_file[key]) as handle:
            return tuple(handle.get_slice(key).get_shape())

    def get(self, key, default=None):
        return self[key] if key in self else default

    def close(self):
        """Nothing stays open between reads; kept for ``with`` blocks."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def read_json(directory, name):
    """``directory/name`` parsed, or None when the checkpoint does not ship that file."""
    path = os.path.join(os.fspath(directory), name)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tokenizer_json_model(path, model_type):
    """A fast-tokenizer ``tokenizer.json`` -> (whole spec, its ``model`` section), checked
    to be a ``model_type`` ("BPE", "WordPiece") model with a vocabulary."""
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    model = spec.get("model") or {}
    if model.get("type") != model_type or not isinstance(model.get("vocab"), dict):
        raise ValueError(f"{path}: expected a {model_type} tokenizer, got model type "
                         f"{model.get('type')!r}.")
    return spec, model
