"""Saving: weights files, whole-model files and the config registry.

    model.save_weights("x.weights.h5") / model.load_weights("x.weights.h5")
    model.save("x.zoo") / zoo.saving.load_model("x.zoo", safe_mode=True)
"""
from zoo.saving.model_file import load_model, save_model  # noqa: F401
from zoo.saving.serialization import (  # noqa: F401
    deserialize,
    register_serializable,
    serialize,
)
from zoo.saving.weights import load_weights, save_weights  # noqa: F401
