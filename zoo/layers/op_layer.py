"""OpLayer: a zoo.ops call made between layers of a functional model becomes a graph node.

``x = zoo.ops.add(a, b)`` on symbolic tensors, outside any layer's own call, is recorded as
an OpLayer holding the op's name and its non-tensor arguments, so the model can run it
again and serialize it (arguments must be JSON-able; slices and Ellipsis are encoded).
"""
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.layer import Layer


def _encode(value, tensors):
    if isinstance(value, SymbolicTensor):
        tensors.append(value)
        return {"__input__": len(tensors) - 1}
    if isinstance(value, slice):
        return {"__slice__": [value.start, value.stop, value.step]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v, tensors) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"zoo.ops argument {value!r} cannot be recorded in a functional model.")


def _decode(value, tensors):
    if isinstance(value, dict):
        if "__input__" in value:
            return tensors[value["__input__"]]
        if "__slice__" in value:
            return slice(*value["__slice__"])
        if "__ellipsis__" in value:
            return Ellipsis
        if "__tuple__" in value:
            return tuple(_decode(v, tensors) for v in value["__tuple__"])
        return {k: _decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


class OpLayer(Layer):
    def __init__(self, op, arguments, name=None, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(name=name or op, **kwargs)
        self.op = op
        self.arguments = arguments  # {"args": [...], "kwargs": {...}} with tensors encoded
        self.built = True

    def call(self, *tensors):
        from zoo.ops.operation import OPS

        args = _decode(self.arguments["args"], tensors)
        kwargs = _decode(self.arguments["kwargs"], tensors)
        return OPS[self.op](*args, **kwargs)

    def compute_output_spec(self, *tensors):
        from zoo.ops.operation import OPS

        args = _decode(self.arguments["args"], tensors)
        kwargs = _decode(self.arguments["kwargs"], tensors)
        return OPS[self.op].shape_rule(*args, **kwargs)

    def get_config(self):
        return {"op": self.op, "arguments": self.arguments, "name": self.name}


def call_as_layer(op_name, args, kwargs):
    tensors = []
    arguments = {"args": _encode(list(args), tensors), "kwargs": _encode(dict(kwargs), tensors)}
    return OpLayer(op_name, arguments)(*tensors)
