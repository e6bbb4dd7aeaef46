"""Sequential: layers applied one after another."""
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.engine.model import Model
from zoo.layers.input_layer import InputLayer
from zoo.saving import serialization


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True, dtype=None):
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        self._input_spec = None
        self._stack = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, SymbolicTensor):  # zoo.Input(...) given as the first "layer"
            layer = layer._history[0].layer
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError("An Input can only be the first element of a Sequential.")
            self._input_spec = layer.batch_shape, layer._input_dtype
            return
        self._stack.append(layer)
        self._track_layer(layer)
        self.built = False
        self._paths_assigned = False
        if self._input_spec is not None:
            self.build(self._input_spec[0])

    def pop(self):
        layer = self._stack.pop()
        for key, value in list(self._layers.items()):
            if value is layer:
                del self._layers[key]
        return layer

    @property
    def layers(self):
        return list(self._stack)

    def build(self, input_shape=None):
        if input_shape is None:
            return
        if isinstance(input_shape, SymbolicTensor):  # a spec: keeps its dtype
            x = input_shape
        else:
            dtype = self._input_spec[1] if self._input_spec else self.compute_dtype
            x = SymbolicTensor(tuple(input_shape), dtype)
        self._build_input_shape = tuple(x.shape)
        for layer in self._stack:
            x = layer._symbolic_without_node(x)
        self.built = True
        self._assign_variable_paths()

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def compute_output_spec(self, inputs, training=None):
        return self.call(inputs)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [serialization.serialize(layer) for layer in self._stack]}
        if self._input_spec is not None:
            config["input_shape"] = list(self._input_spec[0])
            config["input_dtype"] = self._input_spec[1]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        layers = [serialization.deserialize(c, custom_objects=custom_objects, safe_mode=safe_mode)
                  for c in config["layers"]]
        if "input_shape" in config:
            model._input_spec = tuple(config["input_shape"]), config.get("input_dtype", "float32")
        for layer in layers:
            model._stack.append(layer)
            model._track_layer(layer)
        if model._input_spec is not None:
            model.build(model._input_spec[0])
        return model
