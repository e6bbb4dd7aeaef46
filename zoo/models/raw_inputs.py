"""Raw inputs for tasks with a preprocessor: feed them batch by batch.

``PreprocessedBatches`` cuts raw inputs (strings, tuples of segments, lists of pairs,
waveforms, images: whatever the preprocessor's ``accepts_raw`` takes) or a dataset /
DataLoader / generator of them into batches and runs each through
``preprocessor(x, y, sample_weight)`` as the trainer draws it. It quacks like a DataLoader,
so the engine's DataHandler iterates it afresh every epoch (new random masks each time).
"""
import numpy as np

from zoo.engine.data_adapter import unpack
from zoo.layers.structures import map_structure


def is_source(x):
    """A dataset, DataLoader or generator (yields batches) rather than in-memory data."""
    if isinstance(x, (str, bytes, list, tuple, dict, np.ndarray)) or x is None:
        return False
    return hasattr(x, "as_numpy_iterator") or hasattr(x, "__iter__") or hasattr(x, "__next__")


def _as_indexable(x):
    """Raw data as arrays that batches are indexed from: numeric arrays (waveforms,
    images) as they are; anything else as an array of objects, per segment of a tuple, a
    text pair as a tuple."""
    if isinstance(x, tuple):  # segments
        return tuple(_as_indexable(s) for s in x)
    if isinstance(x, np.ndarray) and x.dtype.kind not in "OUS":
        return x
    if isinstance(x, (str, bytes)):
        x = [x]
    array = np.empty(len(x), dtype=object)
    array[:] = [tuple(e) if _is_segments(e) else e for e in x]
    return array


def _is_segments(e):
    """One example made of text segments: a list/tuple, or an array of strings."""
    return isinstance(e, (list, tuple)) or (isinstance(e, np.ndarray) and e.dtype.kind in "USO")


def _as_arrays(data):
    """Labels / sample weights as arrays: a list of numbers is one array; a dict, or a list
    of arrays (one per output), stays a structure."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {k: _as_arrays(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)) and data and all(
            isinstance(d, (np.ndarray, dict)) for d in data):
        return type(data)(_as_arrays(d) for d in data)
    return np.asarray(data)


def _index(x, index):
    """Rows ``index`` of arrays (inside tuples of segments and dicts), still arrays."""
    if isinstance(x, tuple):
        return tuple(_index(s, index) for s in x)
    if isinstance(x, dict):
        return {k: _index(v, index) for k, v in x.items()}
    return x[index]


def _rows(data, index):
    """Rows ``index`` of labels / sample weights (arrays, dicts or lists of them, or None)."""
    return map_structure(lambda a: None if a is None else _index(a, index), data)


def _batch(x, index):
    """Rows ``index`` as the preprocessor takes them (a batch of pairs as a list)."""
    if isinstance(x, tuple):
        return tuple(_batch(s, index) for s in x)
    picked = x[index]
    if picked.dtype == object and picked.size and not isinstance(picked[0], (str, bytes)):
        return list(picked)  # pairs, or examples of different shapes (waveforms, images)
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
        if is_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("When `x` is a dataset, generator or DataLoader, `y` and "
                                 "`sample_weight` must come from it (pass y=None).")
            self.dataset = x
            self._arrays = None
            self._shared_iterator = None
            return
        self._arrays = (_as_indexable(x), _as_arrays(y), _as_arrays(sample_weight))
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
        train, val = ([None if a is None else _index(a, index) for a in self._arrays]
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
            yield self.preprocessor(_batch(x, index), _rows(y, index), _rows(w, index))

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
            if self.preprocessor.accepts_raw(x):
                yield self.preprocessor(x, y, w)
            else:
                yield batch
