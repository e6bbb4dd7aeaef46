"""How an op is declared: a backend-dispatching function plus a symbolic shape rule.

    @op(shape_rules.elementwise_binary)
    def add(x1, x2):
        return backend.numpy.add(*_promote(x1, x2))   # the zoo dtype rule (ops/numpy.py)

Called on concrete tensors, the function runs eagerly (or is traced by jax.jit /
tf.function / torch.compile). Called with any SymbolicTensor among its arguments, the shape
rule runs instead and returns SymbolicTensor(s) carrying the output shape and dtype. Outside
a layer's own call, the op also becomes a node of the functional graph (an ``OpLayer``), so
``zoo.Model(inputs, outputs)`` can contain raw ops between layers.
"""
import functools

from zoo.backend.common import global_state
from zoo.backend.common.symbolic import SymbolicTensor

OPS = {}  # name -> public op function


def has_symbolic(args, kwargs=None):
    """True if a SymbolicTensor is among ``args`` / ``kwargs`` (searched through lists,
    tuples and dicts). On the eager hot path this is a few type checks per argument."""
    for a in (*args, *kwargs.values()) if kwargs else args:
        t = type(a)
        if t is SymbolicTensor:
            return True
        if t in _CONTAINERS and has_symbolic(a.values() if t is dict else a):
            return True
    return False


_CONTAINERS = frozenset((list, tuple, dict))


def in_layer_call():
    return global_state.get("symbolic_layer_depth", 0) > 0


def op(shape_rule):
    """Declare a public op with its shape rule (see the module docstring)."""

    def decorator(fn):
        name = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if has_symbolic(args, kwargs):
                if not in_layer_call():
                    from zoo.layers.op_layer import call_as_layer

                    return call_as_layer(name, args, kwargs)
                return shape_rule(*args, **kwargs)
            return fn(*args, **kwargs)

        wrapper.shape_rule = shape_rule
        wrapper.eager = fn
        OPS[name] = wrapper
        return wrapper

    return decorator
