"""The preset registry: ``zoo.presets.list()``, ``get(name)``, ``resolve_alias(name)``.

Entries live in ``zoo/presets/<family>.toml`` (format: zoo/presets/registry.py).
"""
import builtins
import functools
import os

from zoo.presets.registry import (  # noqa: F401
    PresetEntry, Registry, RegistryError, UnknownPresetError, format_count, format_table)

DIRECTORY = os.path.dirname(os.path.abspath(__file__))


def get_registry():
    """The validated registry of ``DIRECTORY`` (loaded once per process; see reload)."""
    return _load(DIRECTORY)


@functools.lru_cache(maxsize=None)
def _load(directory):
    return Registry.load(directory)


def reload():
    """Forget the loaded registry (after a registry file changed)."""
    _load.cache_clear()


def list():  # noqa: A001  (the public name the contract uses)
    """Every registry entry, family by family, in file order."""
    return builtins.list(get_registry().entries)


def names():
    return get_registry().names()


def get(name):
    """The entry for a name or alias; an unknown name raises UnknownPresetError with suggestions."""
    return get_registry().get(name)


def resolve_alias(name):
    """``bert_base`` -> ``bert_base_en_uncased``; canonical names map to themselves."""
    return get_registry().resolve_alias(name)


def table():
    """The registry as a plain-text table (``zoo presets``)."""
    return format_table(get_registry().entries)
