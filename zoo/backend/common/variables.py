"""Variable: the one mutable thing in zoo. Each backend subclasses it to hold its own tensor.

A variable has a ``name`` (unique inside its layer), a ``path`` (set by the model that owns
it, e.g. ``encoder/layer_0/attention/query/kernel``), ``trainable``, a dtype and a shape.
Reads go through ``.value``, which honours the stateless scope (pure calls) and the autocast
scope (mixed precision); writes go through ``assign``.
"""
import numpy as np

from zoo.backend.common import dtypes
from zoo.backend.common.global_state import _STATE  # read directly: `.value` is hot


class Variable:
    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                 name=None):
        name = name or "variable"
        if "/" in name:
            raise ValueError(f"Variable name {name!r} must not contain '/'.")
        self.name = name
        self.path = name
        self.trainable = bool(trainable)
        self.autocast = autocast
        self._dtype = dtypes.standardize_dtype(dtype)
        if callable(initializer):
            if shape is None:
                raise ValueError(f"Variable {name!r}: an initializer needs a `shape`.")
            value = initializer(tuple(shape), self._dtype)
        else:
            value = initializer
        self._value = self._initialize(self._to_backend(value, self._dtype))
        self._shape = tuple(int(d) for d in self._value.shape)
        if shape is not None and tuple(shape) != self._shape:
            raise ValueError(
                f"Variable {name!r}: initial value has shape {self._shape}, expected {tuple(shape)}."
            )

    # -- backend hooks -------------------------------------------------------------------
    def _to_backend(self, value, dtype):
        """Convert any array-like to the backend's tensor of ``dtype``."""
        raise NotImplementedError

    def _initialize(self, tensor):
        """Wrap a backend tensor as this variable's storage (torch: a Parameter)."""
        return tensor

    def _direct_assign(self, tensor):
        self._value = tensor

    def _cast(self, tensor, dtype):
        raise NotImplementedError

    # -- public API ------------------------------------------------------------------------
    @property
    def value(self):
        scope = getattr(_STATE, "stateless_scope", None)
        value = None
        if scope is not None:
            value = scope.get_current_value(self)
        if value is None:
            value = self._value
        autocast = getattr(_STATE, "autocast_scope", None)
        if autocast is not None and self.autocast and self._dtype in dtypes.FLOAT_TYPES \
                and autocast.dtype != self._dtype:
            return self._cast(value, autocast.dtype)
        return value

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    @property
    def ndim(self):
        return len(self._shape)

    @property
    def size(self):
        return int(np.prod(self._shape)) if self._shape else 1

    def assign(self, value):
        tensor = self._to_backend(value, self._dtype)
        shape = tuple(int(d) for d in tensor.shape)
        if shape != self._shape:
            raise ValueError(
                f"Cannot assign a value of shape {shape} to variable '{self.path}' of shape "
                f"{self._shape}."
            )
        scope = getattr(_STATE, "stateless_scope", None)
        if scope is not None and scope.collect_updates:
            scope.add_update(self, tensor)
        else:
            self._direct_assign(tensor)
        return value

    def assign_add(self, delta):
        from zoo import ops

        return self.assign(ops.add(self.value, delta))

    def assign_sub(self, delta):
        from zoo import ops

        return self.assign(ops.subtract(self.value, delta))

    def numpy(self):
        """A copy of the value (never a view that later training would change)."""
        from zoo import ops

        return np.array(ops.convert_to_numpy(self.value), copy=True)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __repr__(self):
        return (f"<Variable path={self.path} shape={self._shape} dtype={self._dtype} "
                f"trainable={self.trainable}>")

    # Arithmetic reads the value and defers to zoo.ops.
    def _op(name):
        def method(self, *args):
            from zoo import ops

            return getattr(ops, name)(self.value, *args)

        return method

    def _rop(name):
        def method(self, other):
            from zoo import ops

            return getattr(ops, name)(other, self.value)

        return method

    __add__, __radd__ = _op("add"), _rop("add")
    __sub__, __rsub__ = _op("subtract"), _rop("subtract")
    __mul__, __rmul__ = _op("multiply"), _rop("multiply")
    __truediv__, __rtruediv__ = _op("divide"), _rop("divide")
    __pow__, __rpow__ = _op("power"), _rop("power")
    __matmul__, __rmatmul__ = _op("matmul"), _rop("matmul")
    __neg__ = _op("negative")
    __lt__, __le__ = _op("less"), _op("less_equal")
    __gt__, __ge__ = _op("greater"), _op("greater_equal")
    del _op, _rop

    def __getitem__(self, key):
        return self.value[key]

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other
