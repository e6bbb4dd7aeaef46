"""from_preset: build a model, tokenizer or preprocessor from a preset handle.

A handle is a local directory or anything ``zoo.hub.download.resolve`` understands (a
registry name, ``hf://org/repo[@rev]``). The directory is either a zoo preset (see
preset_format.py; every file is checked against metadata.json before use) or a transformers
checkpoint (config.json with ``model_type``), converted while it loads through
converters.py.

Which class comes back (``cls`` is the class whose ``from_preset`` was called):
  - the declared class is ``cls`` or a subclass (``zoo.Model`` accepts every preset);
  - ``cls`` is a Task and the preset holds a backbone of ``cls.backbone_cls`` (a backbone
    preset, or another task's): that backbone with its weights, plus a fresh head;
  - ``cls`` is a Backbone and the preset is a Task whose backbone is a ``cls``: the backbone.

Memory: models are built inside a DeferredInitScope, so each variable gets its storage from
the file it is loaded from (one tensor in flight), never a random init first.
"""
import contextlib
import inspect
import os
import tempfile
import warnings

from zoo.backend.common.variables import DeferredInitScope
from zoo.hub import converters
from zoo.hub import preset_format as fmt
from zoo.hub.preset_format import PresetError
from zoo.saving import serialization

# -- handles ------------------------------------------------------------------------------

def local_directory(handle, allow_pickle=False):
    """The local directory of a handle (downloading it if it is not one)."""
    if isinstance(handle, os.PathLike):
        handle = os.fspath(handle)
    if not isinstance(handle, str) or not handle:
        raise TypeError(f"A preset handle must be a non-empty string or path, got {handle!r}.")
    path = os.path.expanduser(handle)
    if os.path.isdir(path):
        return path
    if os.path.exists(path):
        raise PresetError(f"{handle!r} is a file; a preset is a directory (with config.json "
                          f"and metadata.json).")
    if "://" not in handle and (os.path.isabs(path) or handle.startswith((".", "~"))):
        raise FileNotFoundError(f"Preset directory {handle!r} does not exist.")
    try:
        from zoo.hub import download
    except ImportError as error:
        raise PresetError(f"{handle!r} is not a local directory, and remote handles need "
                          f"zoo.hub.download ({error}).") from None
    if allow_pickle:
        return download.resolve(handle, allow_pickle=True).path
    return download.resolve(handle).path


class _Source:
    """An opened handle: a zoo preset (``.preset``) or a transformers checkpoint."""

    def __init__(self, handle, allow_pickle=False):
        self.handle = handle
        self.directory = local_directory(handle, allow_pickle)
        self.label = f"preset {str(handle)!r}"
        self.preset = None
        self.hf_config = None
        if fmt.is_preset_dir(self.directory):
            self.preset = fmt.Preset(self.directory, handle)
        elif fmt.is_transformers_dir(self.directory):
            self.hf_config = fmt.read_json(os.path.join(self.directory, fmt.CONFIG), self.label)
            self.converter = converters.get_converter(self.hf_config["model_type"], self.label)
        else:
            raise PresetError(
                f"{self.label} ({self.directory}) is neither a zoo preset (no {fmt.METADATA}) "
                f"nor a transformers checkpoint (a {fmt.CONFIG} with 'model_type').")

    @property
    def source_text(self):
        if self.preset is not None:
            return self.preset.metadata.get("source") or str(self.handle)
        return (f"{self.handle} (transformers checkpoint, model_type "
                f"{self.hf_config['model_type']!r}, converted by zoo)")


# -- classes and configs ------------------------------------------------------------------

def _model_classes():
    from zoo.models.backbone import Backbone
    from zoo.models.preprocessing import Preprocessor, Tokenizer
    from zoo.models.task import Task

    return Backbone, Task, Tokenizer, Preprocessor


def _class_name(cls):
    return serialization.registered_name(cls) or cls.__name__


def _subclasses(base):
    stack, seen = [base], []
    while stack:
        klass = stack.pop()
        seen.append(klass)
        stack.extend(klass.__subclasses__())
    return seen


def _find_class(name, base, label, filename):
    """The class a preset file names: the serialization registry, else a subclass of
    ``base`` with that name (tokenizers and preprocessors need not be registered)."""
    if not isinstance(name, str):
        raise PresetError(f"{label}: {filename} has no valid 'class_name' (got {name!r}).")
    try:
        return serialization.get_class(name)
    except ValueError:
        pass
    for attempt in range(2):
        for klass in _subclasses(base):
            if _class_name(klass) == name or klass.__name__ == name:
                return klass
        if attempt == 0:
            with contextlib.suppress(ImportError):
                import zoo.models  # noqa: F401  (registers every architecture's classes)
    raise PresetError(f"{label}: {filename} names class {name!r}, which zoo does not know "
                      f"(not registered; check the zoo version, or import the module that "
                      f"defines it).")


def _read_spec(source, filename):
    spec = source.preset.json(filename)
    if not isinstance(spec, dict) or "class_name" not in spec \
            or not isinstance(spec.get("config", {}), dict):
        raise PresetError(f"{source.label}: {filename} must hold {{\"class_name\": ..., "
                          f"\"config\": {{...}}}}.")
    if serialization.contains_code(spec):
        raise PresetError(f"{source.label}: {filename} carries Python code (a marshalled "
                          f"function); zoo never runs code from a preset. Nothing was built.")
    return spec


def _named_parameters(cls):
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return set()
    return {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _apply_overrides(config, overrides, cls, label, extra=()):
    """``config`` with ``overrides`` applied; every key must exist in the config or be a
    named constructor argument."""
    allowed = set(config) | (_named_parameters(cls) - {"self"}) | set(extra)
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"{label}: unknown override{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(repr, unknown))} for {cls.__name__} (its config has: "
                         f"{', '.join(sorted(config)) or 'nothing'}).")
    return {**config, **overrides}


def _split_overrides(overrides, head_keys, backbone_config, label, cls):
    """Task loads: a key goes to the task head if the head takes it, else to the backbone."""
    head, backbone = {}, {}
    for key, value in overrides.items():
        if key in head_keys:
            head[key] = value
        elif key in backbone_config:
            backbone[key] = value
        else:
            raise ValueError(f"{label}: unknown override {key!r} for {cls.__name__} (neither "
                             f"its head ({', '.join(sorted(head_keys))}) nor its backbone "
                             f"({', '.join(sorted(backbone_config))}) takes it).")
    return head, backbone


@contextlib.contextmanager
def _dtype_scope(dtype):
    """While building: layers given no dtype use ``dtype`` (restored afterwards)."""
    if dtype is None:
        yield
        return
    from zoo.layers import dtype_policy

    previous = dtype_policy._GLOBAL_POLICY
    dtype_policy.set_dtype_policy(dtype)
    try:
        yield
    finally:
        dtype_policy._GLOBAL_POLICY = previous


def _with_dtype(config, cls, dtype):
    if dtype is not None and ("dtype" in config or "dtype" in _named_parameters(cls)):
        return {**config, "dtype": dtype}
    return config


def _construct(cls, config, label, what):
    """``cls.from_config(config)``, with errors that name the preset."""
    try:
        return serialization.deserialize({"class_name": _class_name(cls), "config": config},
                                         custom_objects={_class_name(cls): cls})
    except (TypeError, ValueError, KeyError) as error:
        raise type(error)(f"{label}: cannot build {cls.__name__} from {what}: {error}") \
            from error


def _build_if_needed(model, spec, label):
    if getattr(model, "built", True):
        return
    shape = (spec.get("build") or {}).get("input_shape")
    if shape is not None:
        from zoo.saving.model_file import _shape_from_json

        model.build(_shape_from_json(shape))
    elif not model.variable_paths():
        raise PresetError(f"{label}: {_class_name(type(model))} is not built by its config and "
                          f"{fmt.CONFIG} records no input shape to build it with.")


# -- weights ------------------------------------------------------------------------------

def _weight_files(source):
    """[(local path, display)] of the preset's weights, every file checksum-verified."""
    preset = source.preset
    if preset.has(fmt.WEIGHTS_INDEX):
        index = preset.json(fmt.WEIGHTS_INDEX)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise PresetError(f"{source.label}: {fmt.WEIGHTS_INDEX} has no 'weight_map'.")
        names = list(dict.fromkeys(weight_map.values()))
        files = [(preset.path(name), f"{source.handle}/{name}") for name in names]
        return files, weight_map, names
    return [(preset.path(fmt.WEIGHTS), f"{source.handle}/{fmt.WEIGHTS}")], None, [fmt.WEIGHTS]


def _file_entries(source):
    from zoo.saving import weights

    files, weight_map, names = _weight_files(source)
    entries = weights.read_entries(files)
    if weight_map is not None:
        wrong = sorted(k for k in set(weight_map) | set(entries)
                       if k not in entries or k not in weight_map
                       or names[entries[k][3]] != weight_map[k])
        if wrong:
            raise PresetError(f"{source.label}: {fmt.WEIGHTS_INDEX} does not match its shards "
                              f"(e.g. {wrong[:5]}).")
    return files, entries


def _load_weights(source, variables, description, allow_unexpected=False, entries=None,
                  files=None):
    from zoo.saving import weights

    if entries is None:
        files, entries = _file_entries(source)
    # Random-stream states (a Dropout's seed generator) are not weights: an override such
    # as dropout=0.0 adds or removes them, and either side may lack them.
    variables = {k: v for k, v in variables.items() if k in entries or not _is_rng_state(k)}
    entries = {k: e for k, e in entries.items() if k in variables or not _is_rng_state(k)}
    weights.load_variables(variables, files, description, allow_unexpected=allow_unexpected,
                           entries=entries, display=f"{source.label} weights")


def _is_rng_state(path):
    return path.rsplit("/", 1)[-1].endswith("seed_generator_state")


def _prefix_of(backbone_paths, entries, label):
    """The path prefix under which a task preset stores its backbone's variables."""
    first = next(iter(backbone_paths), None)
    if first is None:
        return ""
    candidates = sorted((k[: -len(first)] for k in entries
                         if k == first or k.endswith("/" + first)), key=len)
    for prefix in candidates:
        if all(prefix + p in entries for p in backbone_paths):
            return prefix
    raise PresetError(f"{label}: the weights do not hold this backbone's variables under any "
                      f"prefix (looked for {first!r}).")


# -- models -------------------------------------------------------------------------------

def load_model(handle, cls, load_weights=True, dtype=None, allow_pickle=False, **overrides):
    """``cls.from_preset(handle, ...)``: see the module docstring for which class returns."""
    source = _Source(handle, allow_pickle=allow_pickle)
    if source.preset is None:
        model = _load_transformers(source, cls, load_weights, dtype, overrides, allow_pickle)
    else:
        model = _load_zoo(source, cls, load_weights, dtype, overrides)
    model._zoo_preset_source = source.source_text
    return model


def _wrong_class(label, declared, cls):
    return PresetError(
        f"{label} declares {declared.__name__}, which is not a {cls.__name__} (use "
        f"{declared.__name__}.from_preset or zoo.Model.from_preset to load it).")


def _load_zoo(source, cls, load_weights, dtype, overrides):
    Backbone, Task, _, _ = _model_classes()
    spec = _read_spec(source, fmt.CONFIG)
    from zoo.engine.model import Model

    declared = _find_class(spec["class_name"], Model, source.label, fmt.CONFIG)
    config = spec.get("config", {})
    is_task = issubclass(declared, Task) and isinstance(config.get("backbone"), dict)
    if issubclass(declared, cls):
        if is_task:
            return _load_task(source, declared, spec, load_weights, dtype, overrides)
        return _load_plain(source, declared, spec, load_weights, dtype, overrides)
    if issubclass(cls, Task) and cls.backbone_cls is not None:
        backbone_cls = _backbone_class(source, config) if is_task else declared
        if issubclass(backbone_cls, cls.backbone_cls):
            return _task_from_backbone_preset(source, cls, spec, is_task, backbone_cls,
                                              load_weights, dtype, overrides)
    if issubclass(cls, Backbone) and is_task:
        backbone_cls = _backbone_class(source, config)
        if issubclass(backbone_cls, cls):
            return _backbone_from_task_preset(source, spec, load_weights, dtype, overrides)
    raise _wrong_class(source.label, declared, cls)


def _backbone_class(source, task_config):
    from zoo.models.backbone import Backbone

    return _find_class(task_config["backbone"].get("class_name"), Backbone, source.label,
                       f"{fmt.CONFIG} (its 'backbone')")


def _load_plain(source, declared, spec, load_weights, dtype, overrides):
    config = _apply_overrides(spec.get("config", {}), overrides, declared, source.label)
    with _dtype_scope(dtype), DeferredInitScope():
        model = _construct(declared, _with_dtype(config, declared, dtype), source.label,
                           fmt.CONFIG)
        _build_if_needed(model, spec, source.label)
        if load_weights:
            _load_weights(source, model.variable_paths(), _describe(model))
    return model


def _describe(model):
    return f"{type(model).__name__} {model.name!r}"


def _build_backbone(source, task_config, dtype, overrides):
    backbone_spec = task_config["backbone"]
    backbone_cls = _backbone_class(source, task_config)
    config = {**backbone_spec.get("config", {}), **overrides}
    return _construct(backbone_cls, _with_dtype(config, backbone_cls, dtype), source.label,
                      f"{fmt.CONFIG} (its 'backbone')")


def _head_config(task_cls, spec):
    config = dict(spec.get("config", {}))
    config.pop("backbone", None)
    config.pop("preprocessor", None)
    return config


def _make_task(task_cls, backbone, preprocessor, head_config, label):
    try:
        return task_cls(backbone=backbone, preprocessor=preprocessor, **head_config)
    except TypeError as error:
        raise TypeError(f"{label}: cannot build {task_cls.__name__}: {error}") from error


def _load_task(source, declared, spec, load_weights, dtype, overrides):
    """A task preset loaded as its own class: backbone, preprocessor, head."""
    config = spec["config"]
    head = _head_config(declared, spec)
    head_keys = set(head) | (_named_parameters(declared) - {"self", "backbone", "preprocessor"})
    head_overrides, backbone_overrides = _split_overrides(
        overrides, head_keys, config["backbone"].get("config", {}), source.label, declared)
    preprocessor = _preset_preprocessor(source, declared)
    with _dtype_scope(dtype), DeferredInitScope():
        backbone = _build_backbone(source, config, dtype, backbone_overrides)
        task = _make_task(declared, backbone, preprocessor,
                          _with_dtype({**head, **head_overrides}, declared, dtype), source.label)
        _build_if_needed(task, spec, source.label)
        if load_weights:
            files, entries = _file_entries(source)
            variables = task.variable_paths()
            if head_overrides:
                variables = _drop_resized_head(task, backbone, variables, entries, source.label)
            _load_weights(source, variables, _describe(task), allow_unexpected=bool(
                head_overrides), entries=entries, files=files)
    return task


def _drop_resized_head(task, backbone, variables, entries, label):
    """With head overrides (e.g. num_classes), head variables whose shape no longer matches
    the file start fresh instead of failing."""
    backbone_ids = {id(v) for v in backbone.variables}
    fresh = [p for p, v in variables.items() if id(v) not in backbone_ids and p in entries
             and tuple(v.shape) != entries[p][0]]
    if fresh:
        warnings.warn(f"{label}: the overridden {type(task).__name__} head does not match the "
                      f"saved one; freshly initialized: {', '.join(fresh)}", stacklevel=4)
    return {p: v for p, v in variables.items() if p not in fresh}


def _backbone_from_task_preset(source, spec, load_weights, dtype, overrides):
    config = spec["config"]
    backbone_config = config["backbone"].get("config", {})
    backbone_cls = _backbone_class(source, config)
    overrides = _apply_overrides(backbone_config, overrides, backbone_cls, source.label)
    with _dtype_scope(dtype), DeferredInitScope():
        backbone = _build_backbone(source, config, dtype, overrides)
        if load_weights:
            _load_backbone_weights(source, backbone)
    return backbone


def _load_backbone_weights(source, backbone):
    files, entries = _file_entries(source)
    paths = backbone.variable_paths()
    prefix = _prefix_of(paths, entries, source.label)
    _load_weights(source, {prefix + p: v for p, v in paths.items()}, _describe(backbone),
                  allow_unexpected=True, entries=entries, files=files)


def _task_from_backbone_preset(source, cls, spec, is_task, backbone_cls, load_weights, dtype,
                               overrides):
    """A Task class loaded from a preset that holds its backbone: the backbone with weights,
    a fresh head built from ``overrides``."""
    config = spec["config"]
    backbone_config = config["backbone"].get("config", {}) if is_task else config
    head_keys = _named_parameters(cls) - {"self", "backbone", "preprocessor"}
    head_overrides, backbone_overrides = _split_overrides(overrides, head_keys, backbone_config,
                                                          source.label, cls)
    preprocessor = _preset_preprocessor(source, cls)
    with _dtype_scope(dtype), DeferredInitScope():
        if is_task:
            backbone = _build_backbone(source, config, dtype, backbone_overrides)
            if load_weights:
                _load_backbone_weights(source, backbone)
        else:
            backbone = _construct(backbone_cls, _with_dtype({**config, **backbone_overrides},
                                                            backbone_cls, dtype),
                                  source.label, fmt.CONFIG)
            _build_if_needed(backbone, spec, source.label)
            if load_weights:
                _load_weights(source, backbone.variable_paths(), _describe(backbone))
    with _dtype_scope(dtype):
        return _make_task(cls, backbone, preprocessor, _with_dtype(head_overrides, cls, dtype),
                          source.label)


def _preset_preprocessor(source, task_cls):
    """The preprocessor a task gets from a preset: None without a tokenizer / preprocessor."""
    pre_cls = getattr(task_cls, "preprocessor_cls", None)
    if pre_cls is None:
        return None
    if source.preset is not None:
        if not (source.preset.has(fmt.PREPROCESSOR) or source.preset.has(fmt.TOKENIZER)):
            return None
        return _zoo_preprocessor(source, pre_cls, {})
    tokenizer = _transformers_tokenizer(source, pre_cls.tokenizer_cls, {}, required=False)
    return None if tokenizer is None else pre_cls(tokenizer=tokenizer,
                                                  **_checkpoint_length(source, pre_cls))


def _checkpoint_length(source, pre_cls):
    """A converted checkpoint's preprocessor packs at most the positions the model has."""
    if "sequence_length" not in _named_parameters(pre_cls):
        return {}
    hf_config = fmt.read_json(os.path.join(source.directory, fmt.CONFIG), fmt.CONFIG)
    positions = hf_config.get("max_position_embeddings")
    return {"sequence_length": min(512, int(positions))} if isinstance(positions, int) else {}


# -- transformers checkpoints ---------------------------------------------------------------

def _load_transformers(source, cls, load_weights, dtype, overrides, allow_pickle):
    _, Task, _, _ = _model_classes()
    converter = source.converter
    backbone_cls = converter.backbone_class()
    from zoo.engine.model import Model

    saved_as = converter.task_for(source.hf_config)
    if cls is Model and saved_as is not None:  # the generic entry point: the saved task
        cls = saved_as
        labels = source.hf_config.get("id2label")
        if "num_classes" in _named_parameters(cls) and isinstance(labels, dict):
            overrides = {"num_classes": len(labels), **overrides}
    if issubclass(backbone_cls, cls):
        task_cls = None
    elif issubclass(cls, Task) and cls.backbone_cls and issubclass(backbone_cls,
                                                                   cls.backbone_cls):
        task_cls = cls
    else:
        raise PresetError(
            f"{source.label} is a transformers {converter.model_type!r} checkpoint, which "
            f"converts to {backbone_cls.__name__}, not a {cls.__name__}.")
    reader = None
    if load_weights:  # opened first: refuses pickle-only checkpoints before anything else
        from zoo.hub.checkpoint_reader import CheckpointReader

        reader = CheckpointReader(source.directory, allow_pickle=allow_pickle)
    try:
        config = converter.backbone_config(dict(source.hf_config))
    except (KeyError, TypeError, ValueError) as error:
        raise PresetError(f"{source.label}: cannot convert its {fmt.CONFIG} "
                          f"({type(error).__name__}: {error}).") from error
    if task_cls is None:
        head_overrides = {}
        backbone_overrides = _apply_overrides({}, overrides, backbone_cls, source.label,
                                              extra=config)
    else:
        head_keys = _named_parameters(task_cls) - {"self", "backbone", "preprocessor"}
        head_overrides, backbone_overrides = _split_overrides(overrides, head_keys, config,
                                                              source.label, task_cls)
    preprocessor = _preset_preprocessor(source, task_cls) if task_cls else None
    with _dtype_scope(dtype), DeferredInitScope():
        backbone = _construct(backbone_cls, _with_dtype({**config, **backbone_overrides},
                                                        backbone_cls, dtype),
                              source.label, f"its converted {fmt.CONFIG}")
        if reader is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                converter.load_backbone(backbone, reader)
            for warning in caught:  # the converter's own explanation, passed on
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)
            if not caught:
                _warn_unassigned(backbone, source, converter)
        if task_cls is None:
            return backbone
        task = _make_task(task_cls, backbone, preprocessor,
                          _with_dtype(head_overrides, task_cls, dtype), source.label)
        loader = converter.head_loader(task_cls)
        if reader is not None and loader is not None:
            try:
                loader(task, reader)
            except KeyError as error:  # the checkpoint has no weights for this head
                warnings.warn(f"{source.label} has no weights for the {task_cls.__name__} head "
                              f"({error}); the head starts fresh.", stacklevel=3)
                task = _make_task(task_cls, backbone, preprocessor,
                                  _with_dtype(head_overrides, task_cls, dtype), source.label)
        return task


def _warn_unassigned(backbone, source, converter):
    """Float variables the converter did not assign keep their initializer: say which
    (integer states such as dropout seeds are expected to)."""
    from zoo.backend.common import dtypes

    missed = [v.path for v in backbone.variables if v.deferred and dtypes.is_float(v.dtype)]
    if missed:
        shown = ", ".join(missed[:8]) + (f" and {len(missed) - 8} more" if len(missed) > 8
                                         else "")
        warnings.warn(f"{source.label}: the {converter.model_type!r} checkpoint has no weights "
                      f"for {len(missed)} {type(backbone).__name__} variables, which start "
                      f"freshly initialized: {shown}", stacklevel=4)


def _transformers_tokenizer(source, cls, overrides, required=True):
    make = source.converter.tokenizer
    tokenizer = make(source.directory, cls) if make is not None else None
    if tokenizer is None:
        if required:
            raise PresetError(f"{source.label}: no tokenizer could be made from this "
                              f"transformers checkpoint.")
        return None
    if overrides:  # rebuild from its config + assets with the overrides applied
        config = _apply_overrides(tokenizer.get_config(), overrides, type(tokenizer),
                                  source.label)
        rebuilt = type(tokenizer).from_config(config)
        with tempfile.TemporaryDirectory(prefix="zoo-tokenizer-") as scratch:
            tokenizer.save_assets(scratch)
            rebuilt.load_assets(scratch)
        tokenizer = rebuilt
    return tokenizer


# -- tokenizers and preprocessors ---------------------------------------------------------

def load_tokenizer(handle, cls, **overrides):
    """``cls.from_preset(handle)`` for a Tokenizer class."""
    source = _Source(handle)
    if source.preset is None:
        return _transformers_tokenizer(source, cls, overrides)
    return _zoo_tokenizer(source, cls, overrides)


def _zoo_tokenizer(source, cls, overrides):
    _, _, Tokenizer, _ = _model_classes()
    if not source.preset.has(fmt.TOKENIZER):
        raise PresetError(f"{source.label} has no tokenizer ({fmt.TOKENIZER} is not listed in "
                          f"{fmt.METADATA}).")
    spec = _read_spec(source, fmt.TOKENIZER)
    declared = _find_class(spec["class_name"], cls or Tokenizer, source.label, fmt.TOKENIZER)
    if cls is not None and not issubclass(declared, cls):
        raise _wrong_class(f"{source.label} ({fmt.TOKENIZER})", declared, cls)
    config = _apply_overrides(spec.get("config", {}), overrides, declared, source.label)
    try:
        tokenizer = declared.from_config(config)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{source.label}: cannot build {declared.__name__} from "
                          f"{fmt.TOKENIZER}: {error}") from error
    for name in source.preset.files_under(fmt.TOKENIZER_ASSETS):
        source.preset.path(name)  # verify every asset before the tokenizer reads them
    tokenizer.load_assets(os.path.join(source.directory, *fmt.TOKENIZER_ASSETS.split("/")))
    return tokenizer


def load_preprocessor(handle, cls, **overrides):
    """``cls.from_preset(handle)`` for a Preprocessor class: its tokenizer from
    tokenizer.json + assets, its options from preprocessor.json (if any) and ``overrides``."""
    source = _Source(handle)
    if source.preset is None:
        _, _, _, Preprocessor = _model_classes()
        if cls is Preprocessor or cls.tokenizer_cls is None:
            raise PresetError(f"{source.label} is a transformers checkpoint: load it with an "
                              f"architecture's preprocessor class (e.g. "
                              f"BertPreprocessor.from_preset).")
        tokenizer = _transformers_tokenizer(source, cls.tokenizer_cls, {})
        config = _apply_overrides(_checkpoint_length(source, cls), overrides, cls, source.label)
        return cls(tokenizer=tokenizer, **config)
    return _zoo_preprocessor(source, cls, overrides)


def _zoo_preprocessor(source, cls, overrides):
    _, _, _, Preprocessor = _model_classes()
    preset = source.preset
    if preset.has(fmt.PREPROCESSOR):
        spec = _read_spec(source, fmt.PREPROCESSOR)
        declared = _find_class(spec["class_name"], cls, source.label, fmt.PREPROCESSOR)
        config = dict(spec.get("config", {}))
        if declared is not cls and cls is not Preprocessor:
            # e.g. BertMaskedLMPreprocessor.from_preset on a classifier preset, or a
            # classifier's BertPreprocessor from a masked-LM preset: the class asked for is
            # built; the tokenizer carries over, options it does not take are dropped.
            if not issubclass(cls, Preprocessor):
                raise _wrong_class(f"{source.label} ({fmt.PREPROCESSOR})", declared, cls)
            accepted = _named_parameters(cls)
            config = {k: v for k, v in config.items() if k in accepted}
            declared = cls
    elif cls is Preprocessor:
        raise PresetError(f"{source.label} has no {fmt.PREPROCESSOR}; load it with an "
                          f"architecture's preprocessor class.")
    else:
        declared, config = cls, {}
    config.pop("tokenizer", None)
    tokenizer = _zoo_tokenizer(source, declared.tokenizer_cls, {})
    config = _apply_overrides(config, overrides, declared, source.label)
    try:
        return declared(tokenizer=tokenizer, **config)
    except TypeError as error:
        raise TypeError(f"{source.label}: cannot build {declared.__name__}: {error}") \
            from error
