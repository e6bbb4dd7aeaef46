"""``zoo.optimizers``: optimizers written once in zoo.ops, for every backend.

    opt = zoo.optimizers.AdamW(learning_rate=schedule, weight_decay=0.01, global_clipnorm=1.0)
    opt.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    opt.apply(grads, model.trainable_variables)                      # stateful
    new_params, new_state = opt.stateless_apply(state, grads, params)  # pure (jax.jit)

``get(identifier)`` accepts a name (``"adam"``), a config dict, an Optimizer, or an optax
transformation (wrapped in ``OptaxOptimizer``).
"""
from zoo.optimizers import schedules
from zoo.optimizers.adafactor import Adafactor
from zoo.optimizers.adam import Adam, AdamW
from zoo.optimizers.base import Optimizer
from zoo.optimizers.loss_scale_optimizer import LossScaleOptimizer
from zoo.optimizers.optax_optimizer import OptaxOptimizer
from zoo.optimizers.rmsprop import RMSprop
from zoo.optimizers.sgd import SGD
from zoo.saving import serialization

__all__ = [
    "SGD",
    "Adafactor",
    "Adam",
    "AdamW",
    "LossScaleOptimizer",
    "OptaxOptimizer",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "adafactor": Adafactor,
            "rmsprop": RMSprop}


def serialize(optimizer):
    return serialization.serialize(optimizer)


def deserialize(config, custom_objects=None, safe_mode=True):
    return serialization.deserialize(config, custom_objects, safe_mode=safe_mode)


def get(identifier):
    """An Optimizer from a name, a ``{"class_name", "config"}`` dict, an Optimizer (returned
    as is) or an optax GradientTransformation (wrapped)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower().replace("_", ""))
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}; known: {sorted(_BY_NAME)}.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(getattr(identifier, "init", None)) and callable(getattr(identifier, "update", None)):
        return OptaxOptimizer(identifier)
    raise ValueError(f"Cannot interpret {identifier!r} as an optimizer.")
