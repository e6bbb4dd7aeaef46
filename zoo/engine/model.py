"""Model: a Layer with whole-model services (summary, saving; training arrives with fit).

Three ways to build one:
    zoo.Model(inputs, outputs)          functional (returns a ``Functional``)
    zoo.Sequential([...])               a stack of layers
    class MyModel(zoo.Model): ...       subclassing, with ``call``
"""
from zoo.layers.layer import Layer


class Model(Layer):
    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            from zoo.engine.functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if type(self).__name__ == "Functional" or not (args or "inputs" in kwargs):
            name = kwargs.pop("name", None)
            dtype = kwargs.pop("dtype", None)
            trainable = kwargs.pop("trainable", True)
            if args or kwargs:
                raise TypeError(f"{type(self).__name__}: unexpected arguments "
                                f"{list(args) + sorted(kwargs)}")
            super().__init__(name=name, dtype=dtype, trainable=trainable)
            self._paths_assigned = False
        else:  # Model(inputs, outputs) reached through __new__
            from zoo.engine.functional import Functional

            Functional.__init__(self, *args, **kwargs)

    def __call__(self, *args, **kwargs):
        outputs = super().__call__(*args, **kwargs)
        if not self._paths_assigned:
            self._assign_variable_paths()
        return outputs

    def _assign_variable_paths(self):
        super()._assign_variable_paths()
        self._paths_assigned = True

    def build(self, input_shape=None):
        """Build a subclassed model by calling it once on symbolic inputs of ``input_shape``."""
        if self.built or input_shape is None or type(self).call is Model.call:
            self.built = True
            return
        from zoo.backend.common.symbolic import SymbolicTensor
        from zoo.layers.layer import map_structure

        def is_shape(s):
            return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)

        def to_spec(s):
            return SymbolicTensor(s, self.compute_dtype)

        if is_shape(input_shape):
            specs = to_spec(input_shape)
        else:
            specs = map_structure(lambda s: s, input_shape)
            specs = {k: to_spec(v) for k, v in input_shape.items()} if isinstance(input_shape, dict) \
                else [to_spec(s) for s in input_shape]
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

    def get_config(self):
        base = {"name": self.name, "trainable": self.trainable}
        if type(self).get_config is not Model.get_config:
            return base
        return base

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        from zoo.engine.functional import Functional

        if "layers" in config and "nodes" in config and not issubclass(cls, Functional):
            return Functional.from_config(config, custom_objects=custom_objects,
                                          safe_mode=safe_mode)
        return cls(**config)
