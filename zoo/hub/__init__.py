"""Preset hub: resolution, download, verification, loading, saving, upload, model cards.

    zoo.hub.resolve("bert_base")                  # -> ResolvedPreset (local path, repo, commit)
    zoo.hub.upload_preset("hf://org/name", "./my_preset")
    zoo.hub.save_to_preset(model, "./my_preset")  # also model.save_to_preset(...)

``from_preset`` goes through zoo/hub/loaders/ (zoo presets, transformers checkpoints, and the
loaders architectures register for other ecosystems with ``register_loader``); converters
port weights with zoo/hub/porting.py.
"""
from zoo.hub.download import resolve  # noqa: F401
from zoo.hub.loaders import register_loader  # noqa: F401
from zoo.hub.saving import save_to_preset  # noqa: F401
from zoo.hub.upload import upload_preset  # noqa: F401
