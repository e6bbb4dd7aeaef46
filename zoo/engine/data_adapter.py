"""Turn what users pass to fit/evaluate/predict into batches of backend tensors.

Accepted on every backend: NumPy arrays (or lists, backend tensors), dicts / lists / tuples
of them, Python generators or iterables yielding ``x``, ``(x, y)`` or ``(x, y, sample_weight)``,
``tf.data.Dataset`` (anything with ``as_numpy_iterator``) and ``torch.utils.data.DataLoader``
(anything iterable with ``dataset`` and ``batch_size``), detected by duck typing so no
framework is imported here.

float64 NumPy data becomes float32 (floatx). Arrays are batched in order, shuffled per
epoch with a permutation drawn from ``(seed, epoch)``, so a resumed run sees the same order;
the last partial batch is kept (on JAX it compiles one more step shape, once).
"""
import numpy as np

from zoo import backend
from zoo.backend.common import config
from zoo.layers.structures import flatten, map_structure


def _to_numpy(x):
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        array = x
    elif backend.core.is_tensor(x):
        array = backend.core.convert_to_numpy(x)
    elif hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor from a DataLoader
        array = x.detach().cpu().numpy()
    elif hasattr(x, "numpy"):
        array = np.asarray(x.numpy())
    else:
        array = np.asarray(x)
    if array.dtype == np.float64:
        array = array.astype(config.floatx())
    return array


def _to_tensor(x):
    return None if x is None else backend.core.convert_to_tensor(x)


def unpack(data):
    """A batch as ``(x, y, sample_weight)``; y and sample_weight may be None."""
    if isinstance(data, tuple) and len(data) in (2, 3):
        return data if len(data) == 3 else (data[0], data[1], None)
    if isinstance(data, list) and len(data) in (2, 3) and not isinstance(data[0], (int, float)):
        return tuple(data) if len(data) == 3 else (data[0], data[1], None)
    return data, None, None


def _is_dataset(x):
    return hasattr(x, "as_numpy_iterator") and hasattr(x, "element_spec")


def _is_dataloader(x):
    return hasattr(x, "dataset") and hasattr(x, "batch_size") and hasattr(x, "__iter__")


def _is_generator(x):
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not isinstance(
        x, (np.ndarray, list, tuple, dict, str)) and not backend.core.is_tensor(x))


class DataHandler:
    """Iterates epochs of batches (tuples of backend tensors)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, seed=None):
        self.steps_per_epoch = steps_per_epoch
        self.shuffle = shuffle
        self.seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else seed
        self._source = None
        if _is_dataset(x) or _is_dataloader(x) or _is_generator(x):
            if y is not None or sample_weight is not None:
                raise ValueError("When `x` is a dataset, generator or DataLoader, `y` and "
                                 "`sample_weight` must come from it (pass y=None).")
            self.kind = "dataset" if _is_dataset(x) else "loader" if _is_dataloader(x) \
                else "generator"
            self._source = x
            self._iterator = None
            self.num_batches = steps_per_epoch
            if self.kind == "loader":
                try:
                    self.num_batches = steps_per_epoch or len(x)
                except TypeError:
                    pass
            elif self.kind == "dataset":
                try:
                    n = int(x.cardinality())
                    if n >= 0:
                        self.num_batches = steps_per_epoch or n
                except (AttributeError, TypeError):
                    pass
            return
        self.kind = "arrays"
        self.x = map_structure(_to_numpy, x)
        self.y = map_structure(_to_numpy, y)
        self.sample_weight = map_structure(_to_numpy, sample_weight)
        sizes = {int(a.shape[0]) for a in flatten((self.x, self.y, self.sample_weight))
                 if a is not None}
        if len(sizes) != 1:
            raise ValueError(f"All inputs must have the same number of samples; got sizes "
                             f"{sorted(sizes)} for x, y and sample_weight.")
        self.num_samples = sizes.pop()
        self.batch_size = batch_size or 32
        full = -(-self.num_samples // self.batch_size)
        self.num_batches = min(full, steps_per_epoch) if steps_per_epoch else full

    def split_validation(self, fraction):
        """Keras' validation_split: the last ``fraction`` of the arrays, before shuffling."""
        if self.kind != "arrays":
            raise ValueError("validation_split needs array inputs; pass validation_data instead.")
        cut = int(self.num_samples * (1 - fraction))
        take = lambda a, s: None if a is None else a[s]  # noqa: E731
        val = [map_structure(lambda a: take(a, slice(cut, None)), part)
               for part in (self.x, self.y, self.sample_weight)]
        for name in ("x", "y", "sample_weight"):
            setattr(self, name, map_structure(lambda a: take(a, slice(None, cut)), getattr(self, name)))
        self.num_samples = cut
        self.num_batches = -(-cut // self.batch_size)
        if self.steps_per_epoch:
            self.num_batches = min(self.num_batches, self.steps_per_epoch)
        return tuple(val)

    def _array_batches(self, epoch):
        order = np.arange(self.num_samples)
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)
        for step in range(self.num_batches):
            index = order[step * self.batch_size:(step + 1) * self.batch_size]
            if not self.shuffle:  # a slice, not a gather
                index = slice(step * self.batch_size, (step + 1) * self.batch_size)
            pick = lambda a: None if a is None else _to_tensor(a[index])  # noqa: E731
            x = map_structure(pick, self.x)
            if self.y is None and self.sample_weight is None:
                yield x
            elif self.sample_weight is None:
                yield x, map_structure(pick, self.y)  # (x, y), as the seed's train_step unpacks
            else:
                yield x, map_structure(pick, self.y), map_structure(pick, self.sample_weight)

    def _source_batches(self):
        if self.kind == "dataset":
            iterator = self._source.as_numpy_iterator()
        elif self.kind == "loader":
            iterator = iter(self._source)
        else:
            if self._iterator is None:
                self._iterator = iter(self._source)
            iterator = self._iterator
        for step, batch in enumerate(iterator):
            if self.steps_per_epoch and step >= self.steps_per_epoch:
                break
            yield map_structure(lambda a: _to_tensor(_to_numpy(a)), _as_tuple(batch))

    def batches(self, epoch=0):
        """Yield ``(step, batch)`` for one epoch."""
        source = self._array_batches(epoch) if self.kind == "arrays" else self._source_batches()
        for step, batch in enumerate(source):
            yield step, batch


def _as_tuple(batch):
    return tuple(batch) if isinstance(batch, list) and len(batch) in (2, 3) else batch
