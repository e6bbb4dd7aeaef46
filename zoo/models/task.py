"""Task: a backbone plus a head (and optionally a preprocessor), e.g. BertTextClassifier.

Protocol the preset hub relies on (zoo/hub/loading.py):
- class attributes ``backbone_cls`` (the Backbone subclass this task wraps) and
  ``preprocessor_cls`` (the Preprocessor subclass that feeds it, or None);
- ``__init__(self, backbone, preprocessor=None, **head_config)``;
- instances expose ``.backbone`` and ``.preprocessor``;
- ``get_config()`` holds the head config plus ``backbone`` (serialized) and
  ``preprocessor`` (serialized or None).

Behaviour added here for every task:
- ``get_config``/``from_config`` follow that protocol from the constructor's arguments;
- with a preprocessor attached, ``fit``/``evaluate``/``predict`` take raw inputs (strings,
  lists or arrays of strings, tuples of segments, or datasets/generators/DataLoaders that
  yield them): each batch goes through ``preprocessor(x, y, sample_weight)`` as it is
  drawn, so random preprocessing (masking for pre-training) differs every epoch. Inputs
  that are already dicts of arrays pass through untouched.
"""
import inspect

import numpy as np

from zoo.engine.data_adapter import unpack
from zoo.engine.model import Model
from zoo.layers.layer import map_structure
from zoo.saving import serialization


def looks_like_text(x):
    """True for a string, bytes, an array of strings, or a list/tuple whose first item is."""
    if isinstance(x, (str, bytes, np.str_, np.bytes_)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "USO" and (x.dtype.kind != "O" or x.size == 0 or
                                          isinstance(x.flat[0], (str, bytes)))
    if isinstance(x, (list, tuple)) and x:
        return looks_like_text(x[0])
    return False


def _is_source(x):
    """A dataset, DataLoader or generator (yields batches) rather than in-memory data."""
    if isinstance(x, (str, bytes, list, tuple, dict, np.ndarray)) or x is None:
        return False
    return hasattr(x, "as_numpy_iterator") or hasattr(x, "__iter__") or hasattr(x, "__next__")


def _as_indexable(x):
    """Raw text data as something ``_take`` can index: arrays of objects, per segment."""
    if isinstance(x, tuple):  # segments
        return tuple(_as_indexable(s) for s in x)
    if isinstance(x, (str, bytes)):
        x = [x]
    array = np.empty(len(x), dtype=object)
    array[:] = [tuple(e) if isinstance(e, (list, tuple)) else e for e in x]
    return array


def _take(x, index):
    if isinstance(x, tuple):
        return tuple(_take(s, index) for s in x)
    if isinstance(x, dict):
        return {k: _take(v, index) for k, v in x.items()}
    picked = x[index]
    if picked.dtype == object and picked.size and isinstance(picked[0], tuple):
        return list(picked)  # a batch of pairs
    return picked


def _num_samples(x):
    if isinstance(x, tuple):
        return _num_samples(x[0])
    if isinstance(x, dict):
        return _num_samples(next(iter(x.values())))
    return len(x)


class PreprocessedBatches:
    """Raw inputs cut into batches and run through a preprocessor, one batch at a time.

    It quacks like a DataLoader (``dataset``, ``batch_size``, ``__iter__``, ``__len__``), so
    the trainer iterates it afresh every epoch."""

    def __init__(self, preprocessor, x, y=None, sample_weight=None, batch_size=None,
                 shuffle=False, seed=None):
        self.preprocessor = preprocessor
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        self.seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else seed
        self._epoch = 0
        if _is_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("When `x` is a dataset, generator or DataLoader, `y` and "
                                 "`sample_weight` must come from it (pass y=None).")
            self.dataset = x
            self._arrays = None
            self._shared_iterator = None
            return
        as_array = lambda a: None if a is None else np.asarray(a)  # noqa: E731
        self._arrays = (_as_indexable(x), map_structure(as_array, y),
                        map_structure(as_array, sample_weight))
        self.dataset = self._arrays
        self.num_samples = _num_samples(self._arrays[0])

    @classmethod
    def _of_arrays(cls, like, x, y, w, shuffle):
        part = cls.__new__(cls)
        part.__dict__.update(like.__dict__)
        part._arrays = part.dataset = (x, y, w)
        part.num_samples = _num_samples(x)
        part.shuffle, part._epoch = shuffle, 0
        return part

    def split(self, fraction):
        """Keras' validation_split on raw arrays (the last ``fraction``, before shuffling)
        -> (train batches, validation batches)."""
        if self._arrays is None:
            raise ValueError("validation_split needs array inputs; pass validation_data instead.")
        cut = int(self.num_samples * (1 - fraction))
        train, val = ([None if a is None else _take(a, index) for a in self._arrays]
                      for index in (slice(None, cut), slice(cut, None)))
        return self._of_arrays(self, *train, self.shuffle), self._of_arrays(self, *val, False)

    def __len__(self):
        if self._arrays is None:
            return len(self.dataset)  # TypeError when unknown: the trainer handles it
        return -(-self.num_samples // self.batch_size)

    def __iter__(self):
        epoch, self._epoch = self._epoch, self._epoch + 1
        if self._arrays is not None:
            return self._array_batches(epoch)
        return self._source_batches()

    def _array_batches(self, epoch):
        x, y, w = self._arrays
        order = np.arange(self.num_samples)
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)
        for start in range(0, self.num_samples, self.batch_size):
            index = order[start:start + self.batch_size]
            pick = lambda a: None if a is None else _take(a, index)  # noqa: E731
            yield self._preprocess(pick(x), map_structure(pick, y), map_structure(pick, w))

    def _source_batches(self):
        source = self.dataset
        if hasattr(source, "as_numpy_iterator"):
            iterator = source.as_numpy_iterator()
        elif hasattr(source, "dataset") and hasattr(source, "batch_size"):
            iterator = iter(source)  # a DataLoader: a fresh pass per epoch
        else:  # a generator: one stream shared by the epochs
            if self._shared_iterator is None:
                self._shared_iterator = iter(source)
            iterator = self._shared_iterator
        for batch in iterator:
            if isinstance(batch, list) and len(batch) in (2, 3):
                batch = tuple(batch)
            x, y, w = unpack(batch)
            if isinstance(x, tuple) and all(isinstance(e, (str, bytes)) for e in x):
                x = list(x)  # a DataLoader collates strings into a tuple: a batch, not segments
            if looks_like_text(x):
                yield self._preprocess(x, y, w)
            else:
                yield batch

    def _preprocess(self, x, y, w):
        return self.preprocessor(x, y, w)


class Task(Model):
    backbone_cls = None
    preprocessor_cls = None

    # -- config ---------------------------------------------------------------------------
    def get_config(self):
        """The constructor's arguments: ``backbone`` and ``preprocessor`` serialized, the
        head config as given (it must be plain data)."""
        args, kwargs = self.__dict__.get("_init_arguments", ((), {}))
        signature = inspect.signature(type(self).__init__)
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        config = {}
        for key, value in list(bound.arguments.items())[1:]:
            kind = signature.parameters[key].kind
            if kind == inspect.Parameter.VAR_KEYWORD:
                config.update(value)
            elif kind != inspect.Parameter.VAR_POSITIONAL:
                config[key] = value
        takes_any = any(p.kind == inspect.Parameter.VAR_KEYWORD
                        for p in signature.parameters.values())
        for key in ("name", "trainable"):
            if takes_any or key in signature.parameters:
                config[key] = getattr(self, key)
        config["backbone"] = serialization.serialize(self.backbone)
        preprocessor = getattr(self, "preprocessor", None)
        config["preprocessor"] = None if preprocessor is None else \
            serialization.serialize(preprocessor)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = serialization.deserialize(config[key], custom_objects=custom_objects,
                                                        safe_mode=safe_mode)
        return cls(**config)

    # -- raw inputs ---------------------------------------------------------------------
    def _needs_preprocessing(self, x):
        if getattr(self, "preprocessor", None) is None or isinstance(x, PreprocessedBatches):
            return False
        return looks_like_text(x) or _is_source(x)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, sample_weight=None,
            **kwargs):
        if self._needs_preprocessing(x):
            data = PreprocessedBatches(self.preprocessor, x, y, sample_weight, batch_size,
                                       shuffle=shuffle)
            if validation_split and validation_data is None:
                data, validation_data = data.split(validation_split)
            x, y, sample_weight, batch_size, validation_split = data, None, None, None, 0.0
        if validation_data is not None:
            validation_data = self._preprocessed_validation(
                validation_data, kwargs.get("validation_batch_size") or batch_size)
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                           callbacks=callbacks, validation_split=validation_split,
                           validation_data=validation_data, shuffle=shuffle,
                           sample_weight=sample_weight, **kwargs)

    def _preprocessed_validation(self, data, batch_size):
        if isinstance(data, PreprocessedBatches):
            return data
        if isinstance(data, (tuple, list)) and len(data) in (2, 3):
            vx, vy, vw = unpack(tuple(data))
        else:
            vx, vy, vw = data, None, None
        if not self._needs_preprocessing(vx):
            return data
        return PreprocessedBatches(self.preprocessor, vx, vy, vw, batch_size)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 **kwargs):
        if self._needs_preprocessing(x):
            x = PreprocessedBatches(self.preprocessor, x, y, sample_weight, batch_size)
            y = sample_weight = batch_size = None
        return super().evaluate(x, y, batch_size=batch_size, verbose=verbose,
                                sample_weight=sample_weight, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        if self._needs_preprocessing(x):
            x = PreprocessedBatches(self.preprocessor, x, batch_size=batch_size)
            batch_size = None
        return super().predict(x, batch_size=batch_size, verbose=verbose, **kwargs)
