"""Layer: the unit of computation and state.

A layer owns variables (created lazily in ``build`` from the first input's shape), nested
layers (found by attribute assignment, also inside lists and dicts), a dtype policy and a
config. Calling it on tensors runs ``call``; calling it on SymbolicTensors records a node of
a functional graph. ``stateless_call`` runs it as a pure function of variable values.

On torch a layer is a ``torch.nn.Module`` (see ``zoo/backend/torch/layer.py``).
"""
import inspect

import numpy as np

from zoo import backend
from zoo.backend.common import global_state
from zoo.backend.common.autocast import AutocastScope
from zoo.backend.common.stateless_scope import StatelessScope
from zoo.backend.common.variables import Variable as BaseVariable
from zoo.backend.common.variables import materialize_distributed
from zoo.layers import dtype_policy as policies
from zoo.layers import initializers
from zoo.layers.structures import flatten, map_structure, snake_case
from zoo.layers.symbolic_calls import SymbolicCalls, _annotate
from zoo.ops.operation import has_symbolic
from zoo.random.seed_generator import SeedGenerator
from zoo.saving import serialization


_FLOATS = ("float16", "bfloat16", "float32", "float64")


def _shape_of(x):
    if x is None:
        return None
    return tuple(x.shape) if not hasattr(x.shape, "as_list") else tuple(x.shape.as_list())


class Layer(SymbolicCalls, backend.BackendLayer):
    """Base class of every zoo layer and model (Keras 3 signatures)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("zoo.") and "_functional_of" not in cls.__dict__:
            serialization.register_builtin(cls)  # (not the functional twin of a class)
        cls._call_params = None

    def __init__(self, name=None, dtype=None, trainable=True, autocast=True, **kwargs):
        kwargs.pop("input_shape", None)  # accepted for Keras compatibility (Sequential)
        kwargs.pop("input_dim", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        self._ensure_tracking()
        self._auto_named = name is None
        self.name = name or snake_case(type(self).__name__)
        if "/" in self.name:
            raise ValueError(f"Layer name {self.name!r} must not contain '/'.")
        self.dtype_policy = policies.get(dtype)
        self._trainable = bool(trainable)
        self.autocast = autocast
        self.built = False
        self._inbound_nodes = []

    # -- tracking ----------------------------------------------------------------------
    def _ensure_tracking(self):
        d = self.__dict__
        if "_layers" not in d:
            if "_backend_ready" not in d:
                d["_backend_ready"] = True
                self._backend_init()
            d["_layers"] = {}
            d["_own_variables"] = []

    def __setattr__(self, name, value):
        if not name.startswith("_"):
            self._ensure_tracking()
            for item in flatten(value) if isinstance(value, (list, tuple, dict)) else [value]:
                if isinstance(item, Layer) and item is not self:
                    self._track_layer(item)
                elif isinstance(item, BaseVariable):
                    self._track_variable(item)
                elif isinstance(item, SeedGenerator):
                    self._track_variable(item.state, rename_on_conflict=True)
        object.__setattr__(self, name, value)

    def _track_layer(self, layer):
        if any(existing is layer for existing in self._layers.values()):
            return
        key = layer.name
        if key in self._layers:
            if not layer._auto_named:
                raise ValueError(
                    f"Layer {self.name!r} has two sublayers named {key!r}; give them unique names."
                )
            i = 1
            while f"{key}_{i}" in self._layers:
                i += 1
            key = f"{key}_{i}"
            if not getattr(layer, "_tracked", False):
                layer.name = key
        layer._tracked = True
        self._layers[key] = layer
        self._track_sublayer(key, layer)

    def _track_variable(self, variable, rename_on_conflict=False):
        if any(v is variable for v in self._own_variables):
            return
        taken = {v.name for v in self._own_variables}
        if rename_on_conflict and variable.name in taken:
            base, i = variable.name, 1
            while f"{base}_{i}" in taken:
                i += 1
            variable.name = f"{base}_{i}"
        if variable.name in taken:
            raise ValueError(
                f"Layer {self.name!r} already has a variable named {variable.name!r}."
            )
        self._own_variables.append(variable)
        self._track_backend_variable(variable)

    @property
    def layers(self):
        return list(self._layers.values())

    def _flatten_layers(self, include_self=True):
        seen, out = set(), []

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for child in layer._layers.values():
                visit(child)

        visit(self)
        return out if include_self else out[1:]

    # -- variables ---------------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True,
                   name=None, autocast=True):
        """Create a variable owned by this layer (Keras signature)."""
        self._ensure_tracking()
        shape = tuple(int(d) for d in (shape or ()))
        dtype = dtype or self.dtype_policy.variable_dtype
        init = initializers.get(initializer if initializer is not None else "zeros")
        name = name or "variable"
        taken = {v.name for v in self._own_variables}
        if name in taken:
            i = 1
            while f"{name}_{i}" in taken:
                i += 1
            name = f"{name}_{i}"
        variable = backend.Variable(init, shape=shape, dtype=dtype, trainable=trainable,
                                    autocast=autocast, name=name)
        variable.path = f"{self.name}/{name}"
        self._track_variable(variable)
        return variable

    def _walk_variables(self, prefix=""):
        """(relative path, variable) pairs, own variables first, then sublayers in order."""
        seen = set()

        def walk(layer, prefix):
            for v in layer._own_variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    yield prefix + v.name, v
            for key, child in layer._layers.items():
                yield from walk(child, prefix + key + "/")

        yield from walk(self, prefix)

    def variable_paths(self):
        """{path: variable}, paths relative to this layer (``encoder/layer_0/query/kernel``)."""
        return dict(self._walk_variables())

    def _assign_variable_paths(self):
        for path, variable in self._walk_variables():
            variable.path = path
        materialize_distributed(self.variables)  # zoo.distribution: named, so placeable

    @property
    def variables(self):
        return [v for _, v in self._walk_variables()]

    weights = variables

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    def _all_trainable(self):
        out, seen = [], set()

        def walk(layer, parent_trainable):
            ok = parent_trainable and layer._trainable
            for v in layer._own_variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append((v, ok and v.trainable))
            for child in layer._layers.values():
                walk(child, ok)

        walk(self, True)
        return out

    @property
    def trainable_variables(self):
        return [v for v, ok in self._all_trainable() if ok]

    @property
    def non_trainable_variables(self):
        return [v for v, ok in self._all_trainable() if not ok]

    trainable_weights = trainable_variables
    non_trainable_weights = non_trainable_variables

    def count_params(self):
        return sum(v.size for v in self.variables)

    def get_weights(self):
        return [v.numpy() for v in self.variables]

    def set_weights(self, weights):
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(f"{self.name}: set_weights got {len(weights)} arrays for "
                             f"{len(variables)} variables.")
        for v, w in zip(variables, weights):
            if tuple(w.shape) != v.shape:
                raise ValueError(f"{self.name}: variable '{v.path}' has shape {v.shape}, "
                                 f"got an array of shape {tuple(w.shape)}.")
        for v, w in zip(variables, weights):
            v.assign(w)

    # -- dtypes ------------------------------------------------------------------------
    @property
    def dtype(self):
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self.dtype_policy.variable_dtype

    # -- build ------------------------------------------------------------------------
    def build(self, input_shape=None):
        """Create variables from the input shape. The default creates none."""
        self.built = True

    def _call_signature(self):
        cls = type(self)
        if cls.__dict__.get("_call_params") is None:
            params = inspect.signature(self.call).parameters
            cls._call_params = params
            cls._call_has_training = "training" in params
            build_params = inspect.signature(self.build).parameters
            cls._build_params = list(build_params)
        return cls._call_params

    def _build_from_call(self, args, kwargs):
        params = list(self._call_signature())
        build_params = type(self)._build_params
        bound = dict(zip(params, args))
        bound.update(kwargs)
        shape_args = [p for p in build_params if p.endswith("_shape") and p[:-6] in bound]
        if shape_args and len(build_params) > 1:
            shapes = {p: map_structure(_shape_of, bound[p[:-6]]) for p in shape_args}
            self.build(**shapes)
        else:
            first = args[0] if args else bound.get(params[0]) if params else None
            self.build(map_structure(_shape_of, first))
        self.built = True

    # -- call -------------------------------------------------------------------------
    def call(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement call().")

    def __call__(self, *args, **kwargs):
        if has_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        self._call_signature()
        if not self.built:
            self._build_from_call(args, kwargs)
        policy = self.dtype_policy
        if self.autocast and args:
            args = (self._cast_inputs(args[0]),) + args[1:]
        state = global_state._STATE
        outer_training = getattr(state, "training", None)
        if type(self)._call_has_training:
            training = kwargs.get("training")
            if training is None:
                training = bool(outer_training)
                kwargs["training"] = training
        else:  # call() takes no `training`: it still sets the mode for the sublayers
            training = kwargs.pop("training", None)
            if training is None:
                training = outer_training
        state.training = training
        try:
            if policy.compute_dtype != policy.variable_dtype:
                with AutocastScope(policy.compute_dtype):
                    return self.call(*args, **kwargs)
            return self.call(*args, **kwargs)
        except Exception as error:
            _annotate(error, self)
            raise
        finally:
            state.training = outer_training

    def _cast_inputs(self, inputs):
        dtype = self.compute_dtype
        core = backend.core
        if core.is_tensor(inputs):  # the common case, kept cheap
            current = core.dtype_of(inputs)
            if current != dtype and current in _FLOATS:
                return core.cast(inputs, dtype)
            return inputs

        def cast(x):
            if core.is_tensor(x):
                if core.dtype_of(x) in _FLOATS and core.dtype_of(x) != dtype:
                    return core.cast(x, dtype)
            elif isinstance(x, np.ndarray) and x.dtype.name in _FLOATS:
                return core.convert_to_tensor(x, dtype)
            return x

        return map_structure(cast, inputs)

    # -- stateless --------------------------------------------------------------------
    def stateless_call(self, trainable_variables, non_trainable_variables, *args, **kwargs):
        """Run the layer as a pure function of variable values.

        Returns ``(outputs, non_trainable_values)`` where the second element holds the
        values after the call (e.g. updated BatchNormalization statistics or seed states).
        """
        trainable, non_trainable = self.trainable_variables, self.non_trainable_variables
        if len(trainable_variables) != len(trainable) or \
                len(non_trainable_variables) != len(non_trainable):
            raise ValueError(
                f"{self.name}.stateless_call: expected {len(trainable)} trainable and "
                f"{len(non_trainable)} non-trainable values, got {len(trainable_variables)} "
                f"and {len(non_trainable_variables)}."
            )
        mapping = list(zip(trainable, trainable_variables))
        mapping += list(zip(non_trainable, non_trainable_variables))
        with StatelessScope(mapping) as scope:
            outputs = self(*args, **kwargs)
        new_values = [scope.updated_value(v, value)
                      for v, value in zip(non_trainable, non_trainable_variables)]
        return outputs, new_values

    # -- config -----------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        policy = self.dtype_policy
        if policy != policies.global_policy() or policy.name != "float32":
            config["dtype"] = policy.name
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
