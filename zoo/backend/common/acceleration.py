"""The torch backend's acceleration settings, as data (no framework imported here).

``zoo.config.set_torch_acceleration(...)`` changes them and ``zoo.config.torch_acceleration()``
reads them; the torch backend (``zoo/backend/torch/accel/``) applies each change as it is
made. On the other backends they are kept and have no effect. The defaults come from the
environment, read the first time the settings are needed:

    ZOO_TORCH_PACKED_WEIGHTS_MB   packed_weights_mb   megabytes of packed weight copies
                                                      (default 2048; 0: none)
    ZOO_TORCH_PACKED_KERNEL       kernel              auto (default) | mkl | onednn | plain
    ZOO_TORCH_ONEDNN_TRAINING     onednn_training     auto (default) | on | off

``kernel``: the product of a few rows by a packed weight copy. ``auto`` times the plain
product and each packed kernel once per row bucket and keeps the fastest; ``mkl`` or
``onednn`` uses that kernel for every row count, and ``plain`` packs nothing, with no timing.
``onednn_training``: the dense products that need gradients. ``auto`` times oneDNN against
the plain products once per shape; ``on`` takes oneDNN for every shape it serves, ``off``
never, with no timing. A run with neither set to ``auto`` (``pinned``) chooses no kernel by
timing, so it computes the same numbers every time.
"""
import dataclasses
import os

KERNELS = ("auto", "mkl", "onednn", "plain")
ONEDNN_TRAINING = ("auto", "on", "off")
ENVIRONMENT = {"packed_weights_mb": "ZOO_TORCH_PACKED_WEIGHTS_MB",
               "kernel": "ZOO_TORCH_PACKED_KERNEL",
               "onednn_training": "ZOO_TORCH_ONEDNN_TRAINING"}


@dataclasses.dataclass(frozen=True)
class TorchAcceleration:
    packed_weights_mb: float = 2048.0
    kernel: str = "auto"
    onednn_training: str = "auto"

    @property
    def pinned(self):
        """True when no choice is made by timing (the same kernels on every run)."""
        return self.kernel != "auto" and self.onednn_training != "auto"

    @property
    def packed_weights_bytes(self):
        return int(self.packed_weights_mb * 2 ** 20)


def _megabytes(value, source):
    try:
        megabytes = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{source}={value!r} is not a number of megabytes (0 turns packed "
                         "weights off).") from None
    if not megabytes >= 0:  # (also refuses NaN)
        raise ValueError(f"{source}={value!r}: expected a number of megabytes >= 0.")
    return megabytes


def _kernel(value, source):
    name = value.strip().lower() if isinstance(value, str) else value
    if name not in KERNELS:
        raise ValueError(f"{source}={value!r}: expected auto, mkl, onednn or plain.")
    return name


def _onednn_training(value, source):
    if value is True or value is False:
        return "on" if value else "off"
    name = value.strip().lower() if isinstance(value, str) else value
    name = {"1": "on", "true": "on", "0": "off", "false": "off"}.get(name, name)
    if name not in ONEDNN_TRAINING:
        raise ValueError(f"{source}={value!r}: expected auto (time oneDNN against the plain "
                         "products per shape), on or off (True or False).")
    return name


_PARSERS = {"packed_weights_mb": _megabytes, "kernel": _kernel,
            "onednn_training": _onednn_training}


def from_environment(environ=None):
    """The settings the ``ZOO_TORCH_*`` variables give (defaults where one is unset)."""
    environ = os.environ if environ is None else environ
    values = {}
    for field, variable in ENVIRONMENT.items():
        if environ.get(variable, "").strip():
            values[field] = _PARSERS[field](environ[variable], variable)
    return TorchAcceleration(**values)


_current = None
_listeners = []  # called with the new settings before they are kept; may refuse (raise)


def torch_acceleration():
    """The current settings (a frozen TorchAcceleration)."""
    global _current
    if _current is None:
        _current = from_environment()
    return _current


def set_torch_acceleration(packed_weights_mb=None, kernel=None, onednn_training=None):
    """Change the settings given (None keeps one as it is) and return the new settings.
    On the torch backend they apply at once: a new budget or kernel drops the packed
    copies made so far (the next products pack anew)."""
    changes = {}
    for field, value in (("packed_weights_mb", packed_weights_mb), ("kernel", kernel),
                         ("onednn_training", onednn_training)):
        if value is not None:
            changes[field] = _PARSERS[field](value, f"set_torch_acceleration: {field}")
    new = dataclasses.replace(torch_acceleration(), **changes)
    _apply(new)
    return new


def _apply(settings):
    global _current
    for listener in _listeners:
        listener(settings)
    _current = settings


def on_change(listener):
    """Registers ``listener(settings)``, called at once with the current settings and then
    with each new one (the torch backend's accel package applies them)."""
    listener(torch_acceleration())
    _listeners.append(listener)
