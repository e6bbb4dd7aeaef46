"""Functional: a model defined by the graph between ``zoo.Input`` tensors and outputs.

Inputs and outputs may be a tensor, a list or a dict. The graph is walked once at
construction into a list of nodes in execution order; calling the model replays them.
The config lists layers (by their unique names inside the model) and the nodes that call
them, so ``from_config`` rebuilds the same graph with no code.
"""
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.engine.model import Model
from zoo.layers.input_layer import InputLayer
from zoo.layers.structures import flatten, map_structure
from zoo.saving import serialization


def _topological_nodes(outputs):
    order, visiting, done = [], set(), set()

    def visit(node):
        if id(node) in done:
            return
        if id(node) in visiting:
            raise ValueError("The functional graph has a cycle.")
        visiting.add(id(node))
        for parent in node.parent_nodes:
            visit(parent)
        visiting.discard(id(node))
        done.add(id(node))
        order.append(node)

    for tensor in outputs:
        if not isinstance(tensor, SymbolicTensor) or tensor._history is None:
            raise ValueError(f"Model outputs must come from zoo.Input through layers; got {tensor!r}.")
        visit(tensor._history[0])
    return order


class Functional(Model):
    def __init__(self, inputs, outputs, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        self._nodes = _topological_nodes(self.outputs)
        for tensor in self.inputs:
            if tensor._history is None or not isinstance(tensor._history[0].layer, InputLayer):
                raise ValueError(f"Model inputs must be zoo.Input tensors; got {tensor!r}.")
        reachable_inputs = {id(n.layer) for n in self._nodes if isinstance(n.layer, InputLayer)}
        declared = {id(t._history[0].layer) for t in self.inputs}
        missing = reachable_inputs - declared
        if missing:
            names = [n.layer.name for n in self._nodes if id(n.layer) in missing]
            raise ValueError(f"The outputs depend on inputs {names} that are not in `inputs`.")
        for node in self._nodes:
            self._track_layer(node.layer)
        self.built = True
        self._assign_variable_paths()

    @property
    def input_shape(self):
        return map_structure(lambda t: t.shape, self._inputs_struct)

    @property
    def output_shape(self):
        return map_structure(lambda t: t.shape, self._outputs_struct)

    def _flatten_inputs(self, inputs):
        if isinstance(self._inputs_struct, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f"Model {self.name!r} takes a dict of inputs "
                                 f"with keys {sorted(self._inputs_struct)}.")
            missing = set(self._inputs_struct) - set(inputs)
            if missing:
                raise ValueError(f"Model {self.name!r}: missing inputs {sorted(missing)}.")
            return [inputs[k] for k in self._inputs_struct]
        flat = flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} inputs, got {len(flat)}.")
        return flat

    def call(self, inputs, training=None):
        values = {}
        for tensor, value in zip(self.inputs, self._flatten_inputs(inputs)):
            spec = tensor.shape
            shape = tuple(value.shape) if hasattr(value, "shape") else None
            if shape is not None and (len(shape) != len(spec) or any(
                    s is not None and d is not None and s != d for s, d in zip(spec, shape))):
                raise ValueError(
                    f"Model {self.name!r}: input {tensor.name!r} expects shape {spec}, "
                    f"got {shape}."
                )
            values[id(tensor)] = value
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            resolve = lambda x: values[id(x)] if isinstance(x, SymbolicTensor) else x  # noqa: E731
            args = map_structure(resolve, node.args)
            kwargs = map_structure(resolve, node.kwargs)
            result = node.layer(*args, **kwargs)
            for tensor, value in zip(node.output_tensors, flatten(result)):
                values[id(tensor)] = value
        return map_structure(lambda t: values[id(t)], self._outputs_struct)

    def compute_output_spec(self, inputs, training=None):
        return self.call(inputs, training=training)

    # -- config -------------------------------------------------------------------------
    def get_config(self):
        names = {id(layer): key for key, layer in self._layers.items()}
        node_index = {}
        refs = {}
        nodes_config = []
        for node in self._nodes:
            key = names[id(node.layer)]
            index = node_index.get(key, 0)
            node_index[key] = index + 1
            for i, t in enumerate(node.output_tensors):
                refs[id(t)] = [key, index, i]

            def encode(x):
                if isinstance(x, SymbolicTensor):
                    return {"__tensor__": refs[id(x)]}
                if isinstance(x, tuple):
                    return {"__tuple__": [encode(e) for e in x]}
                if isinstance(x, list):
                    return [encode(e) for e in x]
                if isinstance(x, dict):
                    return {k: encode(v) for k, v in x.items()}
                return x

            nodes_config.append({"layer": key, "args": encode(list(node.args)),
                                 "kwargs": encode(dict(node.kwargs))})
        layers_config = []
        for node in self._nodes:
            key = names[id(node.layer)]
            if any(entry["name"] == key for entry in layers_config):
                continue
            layers_config.append({"name": key, **serialization.serialize(node.layer)})
        structure = lambda s: map_structure(lambda t: {"__tensor__": refs[id(t)]}, s)  # noqa
        return {"name": self.name, "trainable": self.trainable, "layers": layers_config,
                "nodes": nodes_config, "inputs": structure(self._inputs_struct),
                "outputs": structure(self._outputs_struct)}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        layers = {}
        for entry in config["layers"]:
            layers[entry["name"]] = serialization.deserialize(
                {"class_name": entry["class_name"], "config": entry["config"]},
                custom_objects=custom_objects, safe_mode=safe_mode)
        tensors, counts = {}, {}

        def decode(x):
            if isinstance(x, dict):
                if "__tensor__" in x:
                    return tensors[tuple(x["__tensor__"])]
                if "__tuple__" in x:
                    return tuple(decode(e) for e in x["__tuple__"])
                return {k: decode(v) for k, v in x.items()}
            if isinstance(x, list):
                return [decode(e) for e in x]
            return x

        for node in config["nodes"]:
            key = node["layer"]
            layer = layers[key]
            index = counts.get(key, 0)
            counts[key] = index + 1
            if isinstance(layer, InputLayer):
                outputs = layer.output
            else:
                outputs = layer(*decode(node["args"]), **decode(node["kwargs"]))
            for i, t in enumerate(flatten(outputs)):
                tensors[(key, index, i)] = t
        return cls(decode(config["inputs"]), decode(config["outputs"]), name=config.get("name"),
                   trainable=config.get("trainable", True))
