"""Activation functions by name, for the ``activation=`` argument of layers.

``get("relu")`` returns the ``zoo.ops`` function; ``serialize(fn)`` returns its name again,
so a layer's config stores activations as strings ("relu", "gelu", "linear").
"""

_NAMES = None


def _table():
    global _NAMES
    if _NAMES is None:
        from zoo import ops

        def gelu_approximate(x):
            return ops.gelu(x, approximate=True)

        table = {"gelu_approximate": gelu_approximate}
        for name in ("relu", "relu6", "gelu", "silu", "swish", "sigmoid", "tanh", "softmax",
                     "log_softmax", "softplus", "softsign", "elu", "selu", "leaky_relu",
                     "hard_sigmoid", "hard_silu", "log_sigmoid", "exp"):
            fn = getattr(ops, name, None)
            if fn is not None:
                table[name] = fn
        if "exp" in table:
            table["exponential"] = table.pop("exp")
        if "hard_silu" in table:
            table["hard_swish"] = table["hard_silu"]
        _NAMES = table
    return _NAMES


def get(identifier):
    """A name, ``None``/"linear" (no activation: returns None) or a callable."""
    if identifier is None or identifier == "linear":
        return None
    if isinstance(identifier, str):
        fn = _table().get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation {identifier!r}. "
                             f"Known: {', '.join(sorted(_table()))}, linear.")
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Cannot interpret {identifier!r} as an activation.")


def serialize(activation):
    """The name of an activation ("linear" for None); error for an unnamed callable."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        get(activation)  # validate
        return activation
    table = _table()
    for name, fn in table.items():
        if fn is activation:
            return name
    name = getattr(activation, "__name__", None)
    if name in table:
        return name
    raise ValueError(f"Activation {activation!r} cannot be serialized; pass it by name "
                     f"(one of {', '.join(sorted(table))}) or wrap it in a registered layer.")


def get_safe(name):
    try:
        return get(name)
    except ValueError:
        return None
