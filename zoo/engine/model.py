"""Model: a Layer with whole-model services: training (compile/fit/evaluate/predict, from
``Trainer``), summary and saving.

Three ways to build one:
    zoo.Model(inputs, outputs)          functional (returns a ``Functional``)
    zoo.Sequential([...])               a stack of layers
    class MyModel(zoo.Model): ...       subclassing, with ``call``
"""
from zoo.engine.trainer import Trainer
from zoo.layers.layer import Layer


_FUNCTIONAL_SUBCLASSES = {}


def _is_functional_call(args, kwargs):
    """``cls(inputs, outputs)``: two positional arguments that hold SymbolicTensors (a
    Task's ``cls(backbone, preprocessor)`` is not one), or ``inputs=``/``outputs=``."""
    if "inputs" in kwargs or "outputs" in kwargs:
        return True
    return len(args) >= 2 and _holds_symbolic(args[0]) and _holds_symbolic(args[1])


def _holds_symbolic(value):
    from zoo.backend.common.symbolic import SymbolicTensor

    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_holds_symbolic(v) for v in value)
    return isinstance(value, SymbolicTensor)


def functional_class(cls):
    """The class a ``cls(inputs, outputs)`` call instantiates.

    ``zoo.Model(inputs, outputs)`` is a ``Functional``. A subclass of Model called the same
    way (the seed's ``CustomModel(inputs, outputs)`` that overrides ``train_step``) becomes
    a subclass of both: its own methods first, then Functional's graph.
    """
    from zoo.engine.functional import Functional

    if cls is Model:
        return Functional
    if issubclass(cls, Functional):
        return cls
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__,
            "_functional_of": cls})
    return _FUNCTIONAL_SUBCLASSES[cls]


def constructor_arguments(model, apply_defaults=False):
    """The arguments ``model``'s class was called with, by parameter name (``**kwargs``
    entries merged in, ``*args`` left out; with ``apply_defaults`` the parameters not given
    too): the one binder behind the get_config of models, backbones and tasks. A
    TypeError when they no longer bind the constructor's signature."""
    import inspect

    args, kwargs = model.__dict__.get("_init_arguments", ((), {}))
    signature = inspect.signature(type(model).__init__)
    bound = signature.bind(model, *args, **kwargs)
    if apply_defaults:
        bound.apply_defaults()
    arguments = {}
    for key, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[key].kind
        if kind == inspect.Parameter.VAR_KEYWORD:
            arguments.update({k: v for k, v in value.items() if k not in arguments})
        elif kind != inspect.Parameter.VAR_POSITIONAL:
            arguments[key] = value
    return arguments


class Model(Trainer, Layer):
    def __new__(cls, *args, **kwargs):
        if _is_functional_call(args, kwargs):
            cls = functional_class(cls)
        instance = super().__new__(cls)
        instance.__dict__["_init_arguments"] = (args, kwargs)
        return instance

    def __init__(self, *args, **kwargs):
        """``Model(name=, dtype=, trainable=)``; a subclass whose ``__init__`` builds a graph
        ends with ``super().__init__(inputs=..., outputs=..., name=...)`` (every backbone
        and task does) and becomes functional then: Functional joins the bases of its class
        (its own methods first, then Functional's graph; ``type(model)`` stays the class),
        so no class has to list Functional among its bases."""
        from zoo.engine.functional import Functional

        if _is_functional_call(args, kwargs) and not isinstance(self, Functional):
            cls = type(self)
            cls.__bases__ = cls.__bases__ + (Functional,)
            Functional.__init__(self, *args, **kwargs)
            return
        self._init_plain(*args, **kwargs)

    def _init_plain(self, name=None, dtype=None, trainable=True):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self._paths_assigned = False

    def __call__(self, *args, **kwargs):
        outputs = super().__call__(*args, **kwargs)
        if not self._paths_assigned:
            self._assign_variable_paths()
        return outputs

    def _assign_variable_paths(self):
        super()._assign_variable_paths()
        self._paths_assigned = True

    def build(self, input_shape=None):
        """Build a subclassed model by calling it once on symbolic inputs.

        ``input_shape`` is a shape, a list or dict of shapes, or SymbolicTensors (which
        carry their dtype: integer token ids stay integers)."""
        from zoo.backend.common.symbolic import SymbolicTensor

        def is_shape(s):
            return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)

        def to_spec(s):
            return s if isinstance(s, SymbolicTensor) else SymbolicTensor(s, self.compute_dtype)

        def shape_only(s):
            return tuple(s.shape) if isinstance(s, SymbolicTensor) else s

        if input_shape is not None and getattr(self, "_build_input_shape", None) is None:
            # recorded so model files can rebuild it
            if isinstance(input_shape, dict):
                self._build_input_shape = {k: shape_only(v) for k, v in input_shape.items()}
            elif is_shape(input_shape) or isinstance(input_shape, SymbolicTensor):
                self._build_input_shape = shape_only(input_shape)
            else:
                self._build_input_shape = [shape_only(s) for s in input_shape]
        if self.built or input_shape is None or type(self).call is Model.call:
            self.built = True
            return
        if is_shape(input_shape) or isinstance(input_shape, SymbolicTensor):
            specs = to_spec(input_shape)
        elif isinstance(input_shape, dict):
            specs = {k: to_spec(v) for k, v in input_shape.items()}
        else:
            specs = [to_spec(s) for s in input_shape]
        self.built = True
        self._symbolic_without_node(specs)
        self._assign_variable_paths()

    # -- whole-model services -------------------------------------------------------------
    def summary(self, print_fn=print, line_length=88):
        from zoo.engine.summary import summary_text

        print_fn(summary_text(self, line_length))

    def save_weights(self, filepath):
        from zoo.saving import weights

        weights.save_weights(self, filepath)

    def load_weights(self, filepath):
        from zoo.saving import weights

        weights.load_weights(self, filepath)

    def save(self, filepath):
        from zoo.saving import model_file

        model_file.save_model(self, filepath)

    # -- presets (zoo/hub) ----------------------------------------------------------------
    @classmethod
    def from_preset(cls, handle, load_weights=True, dtype=None, **overrides):
        """Build a model from a preset: a registry name, a local directory, ``hf://org/repo``
        (a zoo preset, or a transformers checkpoint converted while it loads).

        ``zoo.Model.from_preset`` returns whatever class the preset declares; a subclass's
        checks that the preset fits it (a Task also loads from its backbone's preset, a
        Backbone from a task's). ``dtype`` sets the dtype policy; ``overrides`` change config
        entries (``dropout=0.0``, ``num_classes=3``).
        """
        from zoo.hub import loaders

        return loaders.load_model(handle, cls, load_weights=load_weights, dtype=dtype,
                                  **overrides)

    def save_to_preset(self, directory, tokenizer=None, preprocessor=None, source=None,
                       max_shard_size=None):
        """Write this model as a zoo preset directory (atomically); see docs/presets.md."""
        from zoo.hub import preset_format, saving

        if max_shard_size is None:
            max_shard_size = preset_format.DEFAULT_MAX_SHARD_SIZE
        return saving.save_to_preset(self, directory, tokenizer=tokenizer,
                                     preprocessor=preprocessor, source=source,
                                     max_shard_size=max_shard_size)

    def get_config(self):
        """For a subclassed model: its constructor arguments, when they are plain data.

        A subclass whose ``__init__`` takes anything else (layers, functions) overrides
        ``get_config``/``from_config`` itself.
        """
        import json

        config = {"name": self.name, "trainable": self.trainable}
        try:
            config.update(constructor_arguments(self))
        except TypeError:
            return config
        try:
            json.dumps(config)
        except TypeError as error:
            raise NotImplementedError(
                f"{type(self).__name__}.get_config: constructor arguments are not plain data "
                f"({error}); override get_config() and from_config()."
            ) from None
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        if "layers" in config and "nodes" in config:
            return functional_class(cls).from_config(config, custom_objects=custom_objects,
                                                     safe_mode=safe_mode)
        return cls(**config)
