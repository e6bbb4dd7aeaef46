"""Argument checks shared by the convolution and pooling layers (channels-last images)."""
from zoo.ops.nn import explicit_padding


def normalize_tuple(value, n, name):
    """An int or n ints -> a tuple of n ints."""
    if isinstance(value, int):
        return (value,) * n
    try:
        value = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}.") from None
    if len(value) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}.")
    return value


def normalize_padding(padding, allowed=("valid", "same")):
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"padding must be one of {allowed}, got {padding!r}.")
    return padding.lower()


def normalize_conv_padding(padding, n, allowed=("valid", "same")):
    """A padding name of ``allowed``, or explicit zero padding (an int, n ints or n
    (before, after) pairs, as torch's ``Conv2d`` takes it) -> the name, or n pairs."""
    if isinstance(padding, str):
        return normalize_padding(padding, allowed)
    return explicit_padding(padding, n, "padding")


def check_data_format(data_format, layer_name):
    """zoo layers are channels-last; "channels_first" is refused with a clear message."""
    if data_format in (None, "channels_last"):
        return "channels_last"
    raise ValueError(f"{layer_name}: data_format={data_format!r} is not supported; zoo layers "
                     f"take channels-last inputs (transpose them with zoo.ops.transpose).")
