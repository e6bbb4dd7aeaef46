"""How a layer called on SymbolicTensors records a node of a functional graph (the Layer
base mixes this in): the outputs' specs come from running ``call`` on symbolic inputs."""
from zoo.backend.common import global_state
from zoo.backend.common.autocast import AutocastScope
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.structures import flatten, map_structure


class SymbolicCalls:
    def _symbolic_call(self, args, kwargs):
        from zoo.engine.node import Node

        self._call_signature()
        if not type(self)._call_has_training:
            kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        if not self.built:
            self._build_from_call(args, kwargs)
        outer_depth = global_state.get("symbolic_layer_depth", 0)
        global_state.set("symbolic_layer_depth", outer_depth + 1)
        try:
            outputs = self.compute_output_spec(*args, **kwargs)
        except Exception as error:
            _annotate(error, self, args)
            raise
        finally:
            global_state.set("symbolic_layer_depth", outer_depth)
        if outer_depth > 0:
            return outputs
        fresh = map_structure(lambda s: SymbolicTensor(s.shape, s.dtype), outputs)
        Node(self, args, kwargs, fresh)
        return fresh

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs. The default runs ``call`` on the symbolic inputs."""
        if self.dtype_policy.compute_dtype != self.dtype_policy.variable_dtype:
            args = (map_structure(self._cast_symbolic, args[0]),) + tuple(args[1:])
            with AutocastScope(self.compute_dtype):
                return self.call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def _cast_symbolic(self, x):
        if isinstance(x, SymbolicTensor) and x.dtype in ("float16", "bfloat16", "float32"):
            return SymbolicTensor(x.shape, self.compute_dtype, name=x.name)
        return x

    def compute_output_shape(self, *input_shapes):
        specs = map_structure(lambda s: SymbolicTensor(s, self.compute_dtype), input_shapes[0]) \
            if input_shapes else None
        out = self._symbolic_without_node(specs)
        return map_structure(lambda s: s.shape, out)

    def _symbolic_without_node(self, inputs):
        outer = global_state.get("symbolic_layer_depth", 0)
        global_state.set("symbolic_layer_depth", outer + 1)
        try:
            return self(inputs)
        finally:
            global_state.set("symbolic_layer_depth", outer)


def _annotate(error, layer, args=None):
    """Prefix an error raised inside a layer with the layer's name, once."""
    if getattr(error, "_zoo_annotated", False):
        return
    try:
        error._zoo_annotated = True
    except AttributeError:
        return
    message = str(error.args[0]) if error.args else ""
    shapes = ""
    if args:
        specs = [tuple(a.shape) for a in flatten(args) if hasattr(a, "shape")]
        shapes = f" on inputs of shape {', '.join(map(str, specs))}"
    note = f"In layer '{layer.name}' ({type(layer).__name__}){shapes}: {message}"
    if error.args:
        error.args = (note,) + tuple(error.args[1:])
