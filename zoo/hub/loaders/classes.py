"""The classes a preset load deals with, found without the hub importing any of them.

``from_preset`` is defined once on the root of each family of classes (``zoo.Model``,
``Tokenizer``, ``Preprocessor``, ...); the class a caller used says which family is meant.
A model class says what part it plays in a preset through its ``preset_role`` attribute:

    "task"       a Task: ``backbone_cls``, ``preprocessor_cls``; built as
                 ``cls(backbone=..., preprocessor=..., **head_config)``; its config nests
                 its backbone's under "backbone"
    "backbone"   a Backbone (also loads from a task preset: that task's backbone)
    None         any other model (Functional, Sequential, a subclassed model)
"""
import contextlib
import inspect

from zoo.hub.preset_format import PresetError
from zoo.saving import serialization

TASK, BACKBONE = "task", "backbone"


def family_root(cls):
    """The most basic class of ``cls``'s MRO that defines ``from_preset`` (``zoo.Model`` for
    every model class)."""
    for klass in reversed(cls.__mro__):
        if "from_preset" in vars(klass):
            return klass
    return cls


def is_generic(cls):
    """``zoo.Model.from_preset`` (any preset's declared class comes back), not a subclass's."""
    return cls is family_root(cls)


def role(cls):
    return getattr(cls, "preset_role", None)


def is_task(cls):
    return role(cls) == TASK


def class_name(cls):
    return serialization.registered_name(cls) or cls.__name__


def _subclasses(base):
    stack, seen = [base], []
    while stack:
        klass = stack.pop()
        seen.append(klass)
        stack.extend(klass.__subclasses__())
    return seen


def find_class(name, base, label, filename):
    """The class a preset file names: the serialization registry, else a subclass of
    ``base`` with that name (tokenizers and preprocessors need not be registered). The
    architectures of ``zoo.models`` are imported (and so registered) on first need."""
    if not isinstance(name, str):
        raise PresetError(f"{label}: {filename} has no valid 'class_name' (got {name!r}).")
    for attempt in range(2):
        with contextlib.suppress(ValueError):
            return serialization.get_class(name)
        for klass in _subclasses(base):
            if class_name(klass) == name or klass.__name__ == name:
                return klass
        if attempt == 0:
            import_architectures()
    raise PresetError(f"{label}: {filename} names class {name!r}, which zoo does not know "
                      f"(not registered; check the zoo version, or import the module that "
                      f"defines it).")


def import_architectures():
    """Import ``zoo.models``: every architecture registers its classes, converters and
    loaders as it is imported (the hub never imports one by name)."""
    with contextlib.suppress(ImportError):
        import zoo.models  # noqa: F401


def named_parameters(cls):
    """The names ``cls(...)`` takes as keywords."""
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return set()
    return {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def head_parameters(task_cls):
    """The keywords of a task's head (its constructor's, less backbone and preprocessor)."""
    return named_parameters(task_cls) - {"self", "backbone", "preprocessor"}


def wrong_class(label, declared, cls):
    return PresetError(
        f"{label} declares {declared.__name__}, which is not a {cls.__name__} (use "
        f"{declared.__name__}.from_preset or zoo.Model.from_preset to load it).")
