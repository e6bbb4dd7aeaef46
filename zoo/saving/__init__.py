"""Saving: weights files, whole-model files and the config registry."""
from zoo.saving.serialization import (  # noqa: F401
    deserialize,
    register_serializable,
    serialize,
)
