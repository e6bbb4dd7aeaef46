"""Which loader reads a handle's files: a zoo preset first, then the loaders architectures
registered for other ecosystems (in the order they registered), then a transformers
checkpoint. Each is asked ``claims(path)``, so a loader is chosen by what the files are
(a CTranslate2 ``model.bin`` + ``config.json``, an ultralytics ``.pt`` file), not by name.

    from zoo.hub.loaders import CheckpointLoader, register_loader

    @register_loader
    class MyFormatLoader(CheckpointLoader):
        @classmethod
        def claims(cls, path):
            return path.endswith(".myformat") and os.path.isfile(path)
        ...
"""
import os

from zoo.hub.loaders import classes
from zoo.hub.loaders.base import PresetLoader
from zoo.hub.loaders.transformers import TransformersLoader
from zoo.hub.loaders.zoo_preset import ZooPresetLoader
from zoo.hub.preset_format import CONFIG, METADATA, PresetError

_REGISTERED = []


def register_loader(loader_cls):
    """Add a loader for another checkpoint ecosystem (usable as a class decorator).
    Registering the same class again does nothing."""
    if not (isinstance(loader_cls, type) and issubclass(loader_cls, PresetLoader)):
        raise TypeError(f"register_loader: {loader_cls!r} is not a PresetLoader subclass.")
    if loader_cls not in _REGISTERED:
        _REGISTERED.append(loader_cls)
    return loader_cls


def unregister_loader(loader_cls):
    if loader_cls in _REGISTERED:
        _REGISTERED.remove(loader_cls)


def registered_loaders():
    """The loaders architectures registered, in order (the zoo architectures first
    imported so theirs are there)."""
    classes.import_architectures()
    return list(_REGISTERED)


def loader_classes():
    """Every loader, in the order they are asked."""
    return [ZooPresetLoader, *_REGISTERED, TransformersLoader]


def find_loader(path):
    """The first loader that claims ``path``, or None (the architectures of zoo.models are
    imported first if none does, so they can register theirs)."""
    for attempt in range(2):
        for loader_cls in loader_classes():
            if loader_cls.claims(path):
                return loader_cls
        if attempt == 0:
            classes.import_architectures()
    return None


def open_preset(handle, allow_pickle=False):
    """The loader for ``handle``, opened on its local files (downloaded if need be)."""
    path = local_path(handle, allow_pickle)
    loader_cls = find_loader(path)
    if loader_cls is None:
        if os.path.isfile(path):
            raise PresetError(f"{handle!r} is a file; a preset is a directory (with {CONFIG} "
                              f"and {METADATA}), or a file that a registered loader reads.")
        raise PresetError(
            f"preset {str(handle)!r} ({path}) is neither a zoo preset (no {METADATA}) nor a "
            f"transformers checkpoint (a {CONFIG} with 'model_type'), and no registered "
            f"loader reads it.")
    return loader_cls(path, handle, allow_pickle=allow_pickle)


def local_path(handle, allow_pickle=False):
    """The local directory (or file) of a handle, downloading it if it is not local."""
    if isinstance(handle, os.PathLike):
        handle = os.fspath(handle)
    if not isinstance(handle, str) or not handle:
        raise TypeError(f"A preset handle must be a non-empty string or path, got {handle!r}.")
    path = os.path.expanduser(handle)
    if os.path.exists(path):
        return path
    if "://" not in handle and (os.path.isabs(path) or handle.startswith((".", "~"))):
        raise FileNotFoundError(f"Preset directory {handle!r} does not exist.")
    from zoo.hub import download

    if allow_pickle:
        return download.resolve(handle, allow_pickle=True).path
    return download.resolve(handle).path
