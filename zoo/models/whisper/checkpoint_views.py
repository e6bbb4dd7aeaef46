"""A checkpoint's tensors seen under transformers' Whisper names, read lazily.

The CTranslate2 and openai-whisper loaders rename their tensors to the names
``zoo.models.whisper.convert.load_backbone`` ports from (``model.encoder.conv1.weight``,
``model.decoder.layers.0.encoder_attn.k_proj.weight``, ...), so the transformers converter
is the one place that knows where each tensor goes in zoo. A fused projection (CTranslate2
stores q/k/v as one (3 * H, H) matrix) is a view of one part of its source tensor.

    view = TensorView(source, path="/x/model.bin")
    view.add("model.encoder.conv1.weight", "encoder/conv1/weight")
    view.add("model.encoder.layers.0.self_attn.q_proj.weight",
             "encoder/layer_0/self_attention/linear_0/weight", part=(0, 3))   # first third
    view["model.encoder.conv1.weight"]       -> np.ndarray (read now, from the source)
    view.shape("model.encoder.conv1.weight") -> (384, 80, 3), reading no data

``source`` is mapping-like (``source[name]`` -> np.ndarray) with ``shape(name)`` (or
arrays, whose shape is read from them). The Porter (zoo/hub/porting.py) checks every
shape through ``shape`` before it reads a single tensor.
"""
import collections

import numpy as np

_FUSED_KEPT = 2  # fused tensors kept between reads of their parts (a weight and its bias)


class TensorView:
    """{new name: (source name, part, fn)}: ``part`` = (i, n) takes the i-th of n equal
    slices along axis 0; ``fn`` (array -> array) is applied after."""

    def __init__(self, source, path=None):
        self.source = source
        self.path = path  # what the Porter's errors name
        self._names = {}
        self._fused = collections.OrderedDict()  # source name -> array, the last few read

    def add(self, name, source_name, part=None, fn=None):
        self._names[name] = (source_name, part, fn)

    def keys(self):
        return list(self._names)

    def check(self, what):
        """Raise KeyError naming the source tensors that are absent (by their own names,
        which is what the checkpoint's user knows)."""
        missing = list(dict.fromkeys(source for source, _, _ in self._names.values()
                                     if source not in self.source))
        if missing:
            shown = ", ".join(repr(m) for m in missing[:6])
            more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
            raise KeyError(f"{what} {self.path or ''}: no tensor {shown}{more}; is it a "
                           f"complete Whisper checkpoint? Nothing was assigned.")
        return self

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)

    def __contains__(self, name):
        return name in self._names

    def _source_shape(self, source_name):
        shape = getattr(self.source, "shape", None)
        if callable(shape):
            return tuple(shape(source_name))
        return tuple(np.shape(self.source[source_name]))

    def shape(self, name):
        source_name, part, _ = self._names[name]
        shape = self._source_shape(source_name)
        if part is None:
            return shape
        index, count = part
        if not shape or shape[0] % count:
            raise ValueError(f"{self.path or 'checkpoint'}: {source_name!r} has shape {shape}, "
                             f"which does not split into {count} equal parts along its first "
                             f"axis.")
        return (shape[0] // count,) + shape[1:]

    def __getitem__(self, name):
        source_name, part, fn = self._names[name]
        if part is None:
            array = np.asarray(self.source[source_name])
        else:
            full = self._fused.pop(source_name, None)
            if full is None:
                full = np.asarray(self.source[source_name])
            self._fused[source_name] = full
            while len(self._fused) > _FUSED_KEPT:
                self._fused.popitem(last=False)
            index, count = part
            size = full.shape[0] // count
            array = np.ascontiguousarray(full[index * size:(index + 1) * size])
        return fn(array) if fn is not None else array

    def get(self, name, default=None):
        return self[name] if name in self else default
