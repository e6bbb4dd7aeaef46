"""Variable: the one mutable thing in zoo. Each backend subclasses it to hold its own tensor.

A variable has a ``name`` (unique inside its layer), a ``path`` (set by the model that owns
it, e.g. ``encoder/layer_0/attention/query/kernel``), ``trainable``, a dtype and a shape.
Reads go through ``.value``, which honours the stateless scope (pure calls) and the autocast
scope (mixed precision); writes go through ``assign``.

Deferred init (``with DeferredInitScope():``, used when loading presets): a variable created
inside the scope records its shape, dtype and initializer but holds no memory (``_value`` is
None). Its first ``assign`` (e.g. from a weights file) gives it storage; a read before that (other
than a symbolic one while a model is being built), or the end of the scope, runs the
initializer. So loading a model never builds a random copy of it first.
"""
import itertools

import numpy as np

from zoo.backend.common import dispatch, dtypes, global_state
from zoo.backend.common.global_state import (
    _STATE,  # read directly: `.value` is hot
    Scope,
)
from zoo.backend.common.symbolic import SymbolicTensor


class DeferredInitScope(Scope):
    """Variables created inside get storage on first assign, or at the latest when the
    scope ends (then from their initializer). On an exception they stay deferred: a later
    read still initializes them."""

    _scope_name = "deferred_init_scope"

    def __init__(self):
        self.variables = []

    def __exit__(self, exc_type, *exc):
        super().__exit__(exc_type, *exc)
        variables, self.variables = self.variables, []
        if exc_type is None:
            for variable in variables:
                variable._materialize()
        return False


def deferred_init_scope():
    """The active DeferredInitScope, or None."""
    return getattr(_STATE, "deferred_init_scope", None)


_CREATION_COUNTER = itertools.count()


def materialize_distributed(variables):
    """Initialize the still-empty variables of a distribution once their model has named
    them, in the order they were created: the initializers then draw from the random
    generator in the same order as without a distribution, so a seed gives the same
    weights. Not inside a DeferredInitScope, whose values come from a weights file."""
    if deferred_init_scope() is not None:
        return
    pending = [v for v in variables if v._distribution is not None and v._value is None]
    for variable in sorted(pending, key=lambda v: v._creation_index):
        variable._materialize()


class Variable:
    _initializer = None  # set only while a variable is deferred
    _distribution = None  # the zoo.distribution active at creation (JAX), else None
    _layout_reference = None  # an optimizer slot takes its variable's layout

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                 name=None):
        name = name or "variable"
        if "/" in name:
            raise ValueError(f"Variable name {name!r} must not contain '/'.")
        self.name = name
        self._path = name
        self._trainable = bool(trainable)
        self.autocast = autocast
        self._dtype = dtypes.standardize_dtype(dtype)
        scope = getattr(_STATE, "deferred_init_scope", None)
        distribution = global_state.distribution()
        if distribution is not None:
            # Placed with its layout when it gets a value: by then the model has given it
            # its path, which the layout map is keyed on.
            self._distribution = distribution
            self._creation_index = next(_CREATION_COUNTER)
            if not callable(initializer):
                value = initializer
                shape = np.shape(value) if shape is None else shape
                initializer = lambda shape, dtype: value  # noqa: E731
        if (scope is not None or distribution is not None) and callable(initializer) \
                and shape is not None:
            self._shape = tuple(int(d) for d in shape)
            self._initializer = initializer
            self._value = None
            if scope is not None:
                scope.variables.append(self)
            return
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
        """The autocast copy of the value, made by the backend's ``core.cast`` through the
        dispatch point (a replay tape folds it: a weight's cast is made once)."""
        return dispatch.MODULES["core"].cast(tensor, dtype)

    def _own(self, tensor):
        """A tensor this variable may keep (torch: a copy, not a view of the caller's array)."""
        return tensor

    def _on_materialized(self):
        """Called once a deferred variable has storage (torch: register the Parameter)."""

    def _on_path_changed(self):
        """Called when the owning model renames the variable (JAX: layouts follow paths)."""

    def _on_trainable_changed(self):
        """Called when ``trainable`` is set (torch: the Parameter's requires_grad follows)."""

    def _adopt(self, array):
        """A backend tensor sharing ``array``'s memory, or None where that is not possible."""
        return None

    def _on_product_layout(self):
        """Called when ``set_product_layout`` names the contracted axes (NumPy: re-lay the
        value out)."""

    # -- memory layout hint ----------------------------------------------------------------
    _contracted_axes = None

    def set_product_layout(self, contracted_axes):
        """Say that this variable is the right operand of a product that contracts its
        first ``contracted_axes`` axes (a dense kernel: 1). The shape and values do not
        change; a backend may pick the memory layout from it (NumPy keeps those axes
        fastest, the (out, in) layout that OpenBLAS streams faster at a few rows). Others
        ignore it."""
        contracted_axes = int(contracted_axes)
        if not 0 < contracted_axes < max(len(self._shape), 1):
            raise ValueError(f"Variable '{self.path}' of shape {self._shape}: contracted_axes "
                             f"must leave at least one axis out, got {contracted_axes}.")
        self._contracted_axes = contracted_axes
        self._on_product_layout()

    # -- deferred init ---------------------------------------------------------------------
    @property
    def deferred(self):
        """True while the variable has no storage yet (see DeferredInitScope)."""
        return self._value is None

    def _set_initial(self, tensor):
        self._initializer = None
        self._value = self._initialize(tensor)
        self._on_materialized()

    def _symbolic_value(self):
        dtype = self._dtype
        autocast = getattr(_STATE, "autocast_scope", None)
        if autocast is not None and self.autocast and dtype in dtypes.FLOAT_TYPES:
            dtype = autocast.dtype
        return SymbolicTensor(self._shape, dtype)

    def _materialize(self):
        """Give a deferred variable its initial value; return the storage."""
        if self._value is None:
            value = self._initializer(self._shape, self._dtype)
            self._set_initial(self._to_backend(value, self._dtype))
        return self._value

    # -- distribution (JAX) ------------------------------------------------------------------
    def _layout(self):
        """This variable's TensorLayout under its distribution (None: replicated)."""
        source = self._layout_reference
        if source is None or source._distribution is None or source.shape != self._shape:
            source = self
        return self._distribution.get_variable_layout(source)

    def _assign_loaded_slices(self, read):
        """Assign from a file: ``read(index)`` returns the slice ``index`` (a tuple of
        slices) of the stored tensor. Here the whole tensor; JAX reads per-device slices."""
        self._assign_loaded(read(tuple(slice(None) for _ in self._shape)))

    # -- public API ------------------------------------------------------------------------
    @property
    def path(self):
        return self._path

    @path.setter
    def path(self, value):
        changed = value != self._path
        self._path = value
        if changed:
            self._on_path_changed()

    @property
    def value(self):
        scope = getattr(_STATE, "stateless_scope", None)
        value = None
        if scope is not None:
            value = scope.get_current_value(self)
        if value is None:
            value = self._value
            if value is None:
                if getattr(_STATE, "symbolic_layer_depth", 0):
                    return self._symbolic_value()  # building a model: shape and dtype suffice
                value = self._materialize()
        autocast = getattr(_STATE, "autocast_scope", None)
        if autocast is not None and self.autocast and self._dtype in dtypes.FLOAT_TYPES \
                and autocast.dtype != self._dtype:
            return self._cast(value, autocast.dtype)
        return value

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        self._on_trainable_changed()

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
        elif self._value is None:  # deferred: this value becomes the storage
            self._set_initial(self._own(tensor))
        else:
            self._direct_assign(tensor)
        return value

    def _assign_loaded(self, array):
        """Assign a NumPy array that the caller hands over (it was just read from a weights
        file and is not used again): a deferred variable adopts its memory instead of
        copying it, so loading holds no second copy of the tensor."""
        if self._value is None and getattr(_STATE, "stateless_scope", None) is None \
                and isinstance(array, np.ndarray) and array.shape == self._shape \
                and array.dtype == dtypes.to_numpy_dtype(self._dtype):
            tensor = self._adopt(array)
            if tensor is not None:
                self._set_initial(tensor)
                return
        self.assign(array)

    def assign_add(self, delta):
        from zoo import ops

        return self.assign(ops.add(self.value, delta))

    def assign_sub(self, delta):
        from zoo import ops

        return self.assign(ops.subtract(self.value, delta))

    def numpy(self):
        """A C-ordered copy of the value (never a view that later training would change;
        C-ordered even where the backend stores it otherwise, see set_product_layout)."""
        from zoo import ops

        return np.array(ops.convert_to_numpy(self.value), copy=True, order="C")

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
