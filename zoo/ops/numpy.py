"""NumPy-named ops. Each is one function here, one per backend, and a shape rule."""
from zoo import backend
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op, promote


@op(rules.elementwise_binary)
def add(x1, x2):
    return backend.numpy.add(*promote(x1, x2))


@op(rules.elementwise_binary)
def subtract(x1, x2):
    return backend.numpy.subtract(*promote(x1, x2))


@op(rules.elementwise_binary)
def multiply(x1, x2):
    return backend.numpy.multiply(*promote(x1, x2))


@op(rules.elementwise_binary_float)
def divide(x1, x2):
    x1, x2 = promote(x1, x2)
    return backend.numpy.divide(x1, x2)


def _matmul_rule(x1, x2):
    a, b = rules.shape_of(x1), rules.shape_of(x2)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("matmul: inputs must have at least one dimension.")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] is not None and b2[-2] is not None and a2[-1] != b2[-2]:
        raise ValueError(f"matmul: shapes {a} and {b} do not match (inner dims {a2[-1]} != {b2[-2]}).")
    batch = rules.broadcast_shapes(a2[:-2], b2[:-2])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return rules.symbolic(out, rules.result_dtype(x1, x2))


@op(_matmul_rule)
def matmul(x1, x2):
    return backend.numpy.matmul(*promote(x1, x2))


def _reshape_rule(x, newshape):
    shape = rules.shape_of(x)
    newshape = tuple(newshape) if isinstance(newshape, (list, tuple)) else (newshape,)
    if -1 in newshape:
        known = [d for d in shape]
        if None not in known:
            total = 1
            for d in known:
                total *= d
            rest = 1
            for d in newshape:
                if d != -1:
                    rest *= d
            newshape = tuple(total // rest if d == -1 else d for d in newshape)
        else:
            newshape = tuple(None if d == -1 else d for d in newshape)
    return rules.symbolic(newshape, rules.concrete_dtype(x))


@op(_reshape_rule)
def reshape(x, newshape):
    return backend.numpy.reshape(x, newshape)
