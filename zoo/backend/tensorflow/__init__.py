import sys as _sys

# TensorFlow's TFLite helpers import jax when it is installed. zoo promises that one
# backend imports one framework, so jax, torch and keras are hidden while TensorFlow loads (TF
# guards those imports with `except ImportError`), then un-hidden.
_hidden = [name for name in ("jax", "torch", "keras") if name not in _sys.modules]
for _name in _hidden:
    _sys.modules[_name] = None
try:
    import tensorflow as _tf  # noqa: F401
finally:
    for _name in _hidden:
        if _sys.modules.get(_name, 0) is None:
            del _sys.modules[_name]
