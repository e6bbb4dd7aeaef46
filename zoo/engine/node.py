"""Node: one call of a layer on symbolic tensors, the edge list of a functional graph."""
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.structures import flatten


class Node:
    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in flatten((args, kwargs)) if isinstance(t, SymbolicTensor)]
        self.output_tensors = [t for t in flatten(outputs) if isinstance(t, SymbolicTensor)]
        for i, t in enumerate(self.output_tensors):
            t._history = (self, i)
        layer._inbound_nodes.append(self)

    @property
    def parent_nodes(self):
        return [t._history[0] for t in self.input_tensors if t._history is not None]
