"""from_preset: build a model, tokenizer or preprocessor from a preset handle.

A handle is a local directory (or a file a registered loader reads) or anything
``zoo.hub.download.resolve`` understands (a registry name, ``hf://org/repo[@rev]``). Its files
are read by the loader that claims them (registry.py): a zoo preset (zoo_preset.py), a
transformers checkpoint (transformers.py), or a loader an architecture registered for
another ecosystem (a CheckpointLoader subclass, checkpoint.py). base.py holds what every
loader shares: the plan -> build under the dtype policy and deferred init -> port weights.
"""
from zoo.hub.loaders.base import ModelPlan, PresetLoader  # noqa: F401
from zoo.hub.loaders.checkpoint import CheckpointLoader  # noqa: F401
from zoo.hub.loaders.registry import (  # noqa: F401
    find_loader, loader_classes, open_preset, register_loader, unregister_loader)
from zoo.hub.loaders.transformers import TransformersLoader  # noqa: F401
from zoo.hub.loaders.zoo_preset import ZooPresetLoader  # noqa: F401


def load_model(handle, cls, load_weights=True, dtype=None, allow_pickle=False, **overrides):
    """``cls.from_preset(handle, ...)``: see zoo_preset.py for which class comes back."""
    loader = open_preset(handle, allow_pickle=allow_pickle)
    return loader.load_model(cls, load_weights=load_weights, dtype=dtype, overrides=overrides)


def load_component(handle, cls, **overrides):
    """``cls.from_preset(handle)`` for a Tokenizer, AudioConverter or ImageConverter class."""
    return open_preset(handle).load_component(cls, overrides)


def load_preprocessor(handle, cls, **overrides):
    """``cls.from_preset(handle)`` for a Preprocessor class."""
    return open_preset(handle).load_preprocessor(cls, overrides)
