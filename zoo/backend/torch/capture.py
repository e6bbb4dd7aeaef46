"""A model call as one compiled graph on torch: trace, then hand the graph to inductor.

``torch.compile`` on a zoo model directly meets the layer machinery (``Layer.__call__``,
shape logic, dtype policies) and breaks the graph at it. ``CompiledCall`` traces instead,
the way ``jax.jit`` does: the call runs once on fake tensors of the inputs' shapes
(``make_fx``), with the variables read from a ``StatelessScope`` mapping, so all the
Python runs once and only the aten ops it issues remain, in one graph whose inputs are the
variable values and the tensors of the call. That graph then goes to ``torch.compile``
(inductor: fused elementwise ops around the GEMMs, no Python per layer).

* One graph per signature: the structure of the arguments, the shape and dtype of each
  tensor in them and of each variable value, and the other leaves' values (as with
  ``jax.jit``, a new batch shape compiles again).
* The weights are inputs, never baked in: assigning, training or loading new weights
  needs no recompilation. Variables the call assigns (a seed generator's state, moving
  statistics) are outputs of the graph, assigned after it ran.
* ``differentiate``: variables whose values enter the trace as leaves that require grad,
  so ``torch.autograd.grad`` inside the call traces the backward pass into the same graph.
* Random ops inside the trace draw from torch's own generator (``torch.manual_seed``,
  which ``zoo.config.set_random_seed`` sets), advanced on every call of the graph: a seed
  tensor's value cannot be read while tracing.
* A call whose Python depends on tensor values (``.item()``, ``if tensor:``) cannot be
  traced on fake tensors: that signature runs eagerly, with one warning that names the
  model and the reason. So does one that inductor cannot compile (no C++ compiler).
"""
import warnings

import numpy as np
import torch
from torch.utils import _pytree as pytree

from zoo.backend.common.stateless_scope import StatelessScope
from zoo.backend.torch import random as torch_random


def _leaf_key(leaf):
    if isinstance(leaf, torch.Tensor):
        return ("tensor", tuple(leaf.shape), leaf.dtype)
    try:
        hash(leaf)
    except TypeError:
        return ("object", id(leaf))
    return ("value", type(leaf), leaf)


class CompiledCall:
    """``fn(*args)``, a function of ``variables()`` (default: ``model.variables``) and
    ``args``, compiled once per signature. The graph runs without autograd: call it for
    inference, or compute gradients inside ``fn`` (see ``differentiate``)."""

    def __init__(self, model, fn, what="call", variables=None, differentiate=None):
        self.model = model
        self.fn = fn
        self.what = what
        self.variables = variables or (lambda: model.variables)
        self.differentiate = differentiate or (lambda: ())
        self._graphs = {}
        self._warned = False

    def compile_count(self):
        """How many signatures were compiled (tests check that none compiles twice)."""
        return sum(1 for graph in self._graphs.values() if graph is not None)

    def __call__(self, *args):
        args = pytree.tree_map(
            lambda a: torch.from_numpy(a) if isinstance(a, np.ndarray) else a, args)
        leaves, spec = pytree.tree_flatten(args)
        variables = self.variables()
        values = [v.value.detach() for v in variables]
        key = (spec, tuple(_leaf_key(a) for a in leaves),
               tuple((tuple(v.shape), v.dtype) for v in values))
        if key not in self._graphs:
            graph, reason = self._trace(variables, values, leaves, spec)
            if graph is None:
                out = self.fn(*args)  # an error of the call itself surfaces here, unwrapped
                self._graphs[key] = None
                self._warn(reason)
                return out
            self._graphs[key] = graph
        graph = self._graphs[key]
        if graph is None:
            return self.fn(*args)
        tensors = [a for a in leaves if isinstance(a, torch.Tensor)]
        try:
            with torch.no_grad():
                out, updates = graph(values, tensors)
        except Exception as error:  # inductor compiles on the first call
            if graph.ran:
                raise
            self._graphs[key] = None
            self._warn(f"inductor could not compile it ({type(error).__name__}: {error})")
            return self.fn(*args)
        for index, value in zip(graph.updated, updates):
            variables[index].assign(value)
        return out

    def _trace(self, variables, values, leaves, spec):
        from torch.fx.experimental.proxy_tensor import make_fx

        positions = [i for i, a in enumerate(leaves) if isinstance(a, torch.Tensor)]
        with_grad = {id(v) for v in self.differentiate()}
        updated = []

        def pure(values, tensors):
            full = list(leaves)
            for i, tensor in zip(positions, tensors):
                full[i] = tensor
            values = [value.detach().requires_grad_() if id(v) in with_grad else value
                      for v, value in zip(variables, values)]
            with StatelessScope(list(zip(variables, values))) as scope:
                out = self.fn(*pytree.tree_unflatten(full, spec))
            updated[:] = [i for i, v in enumerate(variables) if id(v) in scope._updates]
            return out, [scope._updates[id(variables[i])] for i in updated]

        tensors = [leaves[i] for i in positions]
        try:
            with torch.enable_grad(), torch_random._in_graph_randomness():
                traced = make_fx(pure, tracing_mode="fake")(values, tensors)
        except Exception as error:
            return None, f"it could not be traced ({type(error).__name__}: {error})"
        compiled = torch.compile(traced, dynamic=False, fullgraph=True)
        return _Graph(compiled, updated), None

    def _warn(self, reason):
        if not self._warned:
            self._warned = True
            warnings.warn(f"{self.model.name}: jit_compile=True {self.what} runs eagerly "
                          f"because {reason}", stacklevel=3)


class _Graph:
    def __init__(self, compiled, updated):
        self.compiled = compiled
        self.updated = list(updated)
        self.ran = False

    def __call__(self, values, tensors):
        out = self.compiled(values, tensors)
        self.ran = True
        return out
