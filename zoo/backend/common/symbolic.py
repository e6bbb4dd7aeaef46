"""SymbolicTensor: a shape and a dtype with no data, used to build functional models.

Every ``zoo.ops`` function accepts symbolic inputs and returns a SymbolicTensor whose shape
and dtype follow the op's shape rule. ``None`` marks a dimension unknown until run time
(usually the batch). ``_history`` links the tensor to the layer call that produced it.
"""
from zoo.backend.common.dtypes import standardize_dtype


class SymbolicTensor:
    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = standardize_dtype(dtype)
        self.name = name
        self._history = history  # (node, index) once produced by a layer call

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype} name={self.name}>"

    def __len__(self):
        raise TypeError("len() of a symbolic tensor is unknown; use tensor.shape[0].")

    def __iter__(self):
        raise TypeError("A SymbolicTensor cannot be iterated; use zoo.ops functions on it.")

    def __bool__(self):
        raise TypeError(
            "A SymbolicTensor has no value, so it cannot be used as a Python bool "
            "(in `if`, `and`, `or`). Use zoo.ops.cond / zoo.ops.where instead."
        )

    # Operators are the zoo.ops functions (imported lazily: ops imports this module).
    def _op(name):
        def method(self, *args):
            from zoo import ops

            return getattr(ops, name)(self, *args)

        return method

    def _rop(name):
        def method(self, other):
            from zoo import ops

            return getattr(ops, name)(other, self)

        return method

    __add__, __radd__ = _op("add"), _rop("add")
    __sub__, __rsub__ = _op("subtract"), _rop("subtract")
    __mul__, __rmul__ = _op("multiply"), _rop("multiply")
    __truediv__, __rtruediv__ = _op("divide"), _rop("divide")
    __floordiv__, __rfloordiv__ = _op("floor_divide"), _rop("floor_divide")
    __mod__, __rmod__ = _op("mod"), _rop("mod")
    __pow__, __rpow__ = _op("power"), _rop("power")
    __matmul__, __rmatmul__ = _op("matmul"), _rop("matmul")
    __neg__ = _op("negative")
    __abs__ = _op("abs")
    __lt__, __le__ = _op("less"), _op("less_equal")
    __gt__, __ge__ = _op("greater"), _op("greater_equal")
    __and__, __or__, __xor__ = _op("logical_and"), _op("logical_or"), _op("logical_xor")
    __invert__ = _op("logical_not")
    del _op, _rop

    def __getitem__(self, key):
        from zoo import ops

        return ops.get_item(self, key)

    def astype(self, dtype):
        from zoo import ops

        return ops.cast(self, dtype)


def is_symbolic(x):
    return isinstance(x, SymbolicTensor)
