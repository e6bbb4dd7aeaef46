"""Activation functions by name, for the ``activation=`` argument of layers."""


def get(identifier):
    from zoo import ops

    if identifier is None or identifier == "linear":
        return None
    if callable(identifier):
        return identifier
    names = {"relu": ops.relu, "gelu": ops.gelu, "gelu_approximate": lambda x: ops.gelu(x, True),
             "silu": ops.silu, "swish": ops.silu, "sigmoid": ops.sigmoid, "tanh": ops.tanh,
             "softmax": ops.softmax, "log_softmax": ops.log_softmax, "softplus": ops.softplus,
             "elu": getattr(ops, "elu", None), "relu6": getattr(ops, "relu6", None)}
    fn = names.get(identifier)
    if fn is None:
        raise ValueError(f"Unknown activation {identifier!r}. Known: {', '.join(sorted(names))}.")
    return fn


def serialize(activation):
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    name = getattr(activation, "__name__", None)
    if name and get_safe(name) is not None:
        return name
    raise ValueError(f"Activation {activation!r} cannot be serialized; pass it by name.")


def get_safe(name):
    try:
        return get(name)
    except ValueError:
        return None
