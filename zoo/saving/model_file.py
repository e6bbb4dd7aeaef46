"""The ``.zoo`` whole-model file: a zip archive of config, metadata and weights.

Members::

    config.json        {"class_name": ..., "config": model.get_config(),
                        "build": {"input_shape": ...}}   (build: only when it is needed)
    metadata.json      {"format": "zoo.model", "format_version": 1, "zoo_version": ...,
                        "backend": ..., "date_saved": ..., "parameter_count": ...}
    model.weights.h5   the model's variables, in the ``.weights.h5`` format

``load_model`` reads the config, refuses Python code under ``safe_mode`` before anything
is constructed, rebuilds the model through the serialization registry, builds it if the
config does not, and loads the weights. Nothing in the archive is ever executed or
unpickled.
"""
import datetime
import json
import os
import tempfile
import zipfile

from zoo.saving import serialization
from zoo.saving import weights as weights_lib

FORMAT = "zoo.model"
FORMAT_VERSION = 1
SUFFIX = ".zoo"
CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"


# -- shapes in JSON -------------------------------------------------------------------------

def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def _shape_to_json(shape):
    if shape is None:
        return None
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, dict):
        return {k: _shape_to_json(v) for k, v in shape.items()}
    if _is_shape(shape):
        return [None if d is None else int(d) for d in shape]
    if isinstance(shape, (tuple, list)):
        return [_shape_to_json(s) for s in shape]
    raise ValueError(f"Cannot record input shape {shape!r} in a model file.")


def _shape_from_json(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _shape_from_json(v) for k, v in value.items()}
    if _is_shape(value):
        return tuple(value)
    return [_shape_from_json(v) for v in value]


def _build_config(model):
    """What ``load_model`` needs to build the model before loading weights, or None.

    Functional models and Sequential models with an Input are built by ``from_config``.
    Others (subclassed models, Sequential without Input) were built from the shape of their
    first call, which the engine records as ``model._build_input_shape``.
    """
    from zoo.engine.functional import Functional

    if isinstance(model, Functional):
        return None
    custom = getattr(model, "get_build_config", None)
    if callable(custom):
        config = custom()
        if config:
            return config
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        return None
    return {"input_shape": _shape_to_json(shape)}


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} value {value!r} is not JSON-serializable")


# -- save -----------------------------------------------------------------------------------

def save_model(model, filepath):
    """Save ``model`` (config + weights) as a ``.zoo`` archive, atomically."""
    import zoo

    filepath = os.fspath(filepath)
    if not filepath.endswith(SUFFIX):
        hint = (" To save only the weights, use model.save_weights('x.weights.h5')."
                if filepath.endswith(".h5") else "")
        raise ValueError(f"Cannot save the model to {filepath!r}: the file name must end with "
                         f"'{SUFFIX}' (e.g. 'model{SUFFIX}').{hint}")
    config = serialization.serialize(model)
    build = _build_config(model)
    if build is not None:
        config["build"] = build
    compile_config = _compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    try:
        config_text = json.dumps(config, indent=2, default=_json_default)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Cannot save {type(model).__name__} {model.name!r}: its config is not "
                         f"JSON-serializable ({error}). Every get_config() must return "
                         f"plain data.") from error
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "zoo_version": zoo.__version__,
        "backend": zoo.config.backend(),
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "class_name": config["class_name"],
        "parameter_count": int(model.count_params()),
    }
    with weights_lib.atomic_write(filepath) as tmp:
        directory = os.path.dirname(tmp)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".zoo-save-") as scratch:
            weights_path = os.path.join(scratch, WEIGHTS)
            weights_lib.write_weights_file(model, weights_path)
            with zipfile.ZipFile(tmp, "w") as archive:
                archive.writestr(CONFIG, config_text, compress_type=zipfile.ZIP_DEFLATED)
                archive.writestr(METADATA, json.dumps(metadata, indent=2),
                                 compress_type=zipfile.ZIP_DEFLATED)
                archive.write(weights_path, WEIGHTS, compress_type=zipfile.ZIP_STORED)


def _compile_config(model):
    getter = getattr(model, "get_compile_config", None)
    if not callable(getter) or not getattr(model, "compiled", False):
        return None
    try:
        return getter()
    except (NotImplementedError, ValueError):
        return None


# -- load -----------------------------------------------------------------------------------

def _not_readable(filepath, reason):
    return ValueError(f"{filepath!r} is not a readable zoo model file ({reason}).")


def _open_archive(filepath):
    if filepath.endswith(weights_lib.SUFFIX):
        raise ValueError(
            f"{filepath!r} is a weights file, not a whole-model file: it holds variables but "
            f"no architecture. Build the model (same architecture) and call "
            f"model.load_weights({filepath!r}) instead."
        )
    if os.path.isdir(filepath):
        raise IsADirectoryError(
            f"{filepath!r} is a directory. load_model reads '.zoo' files; for a preset "
            f"directory use zoo.Model.from_preset({filepath!r})."
        )
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"Model file {filepath!r} does not exist.")
    try:
        return zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _not_readable(filepath, f"not a zip archive: {error}") from None


def _read_json(archive, member, filepath):
    try:
        raw = archive.read(member)
    except KeyError:
        raise _not_readable(filepath, f"the archive has no {member!r}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _not_readable(filepath, f"{member!r} is damaged: {error}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _not_readable(filepath, f"{member!r} is not valid JSON: {error}") from None


def _code_locations(config, trail=()):
    """Describe where a (nested) config carries code: ["Sequential 'seq' > __lambda__ 'f'"]."""
    found = []
    if isinstance(config, dict):
        here = trail
        if "class_name" in config:
            inner = config.get("config")
            name = config.get("name")
            if name is None and isinstance(inner, dict):
                name = inner.get("name")
            label = str(config["class_name"]) + (f" {name!r}" if name is not None else "")
            here = trail + (label,)
            if config["class_name"] == "__lambda__":
                return [" > ".join(here)]
        for value in config.values():
            found.extend(_code_locations(value, here))
    elif isinstance(config, (list, tuple)):
        for value in config:
            found.extend(_code_locations(value, trail))
    return found


def _read_config(archive, filepath, safe_mode):
    metadata = None
    if METADATA in archive.namelist():
        metadata = _read_json(archive, METADATA, filepath)
        version = metadata.get("format_version", 1) if isinstance(metadata, dict) else None
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise ValueError(
                f"{filepath!r} uses zoo model format version {version}, newer than this zoo "
                f"supports ({FORMAT_VERSION}); it was written by zoo "
                f"{metadata.get('zoo_version')}. Upgrade zoo to load it."
            )
    config = _read_json(archive, CONFIG, filepath)
    if not isinstance(config, dict) or "class_name" not in config:
        raise _not_readable(filepath, f"{CONFIG!r} has no 'class_name'")
    if safe_mode and serialization.contains_code(config):
        where = "; ".join(_code_locations(config)) or "somewhere in the config"
        raise ValueError(
            f"Refusing to load {filepath!r} with safe_mode=True: its config carries Python "
            f"code (a marshalled function) in {where}. Nothing was constructed. Pass "
            f"safe_mode=False only if you trust where the file came from."
        )
    return config, metadata


def _rebuild(config, filepath, custom_objects, safe_mode):
    spec = {"class_name": config["class_name"], "config": config.get("config", {})}
    try:
        model = serialization.deserialize(spec, custom_objects=custom_objects,
                                          safe_mode=safe_mode)
    except (ValueError, TypeError) as error:
        message = f"Cannot rebuild the model saved in {filepath!r}: {error}"
        try:
            wrapped = type(error)(message)
        except Exception:  # an exception type with a custom signature
            wrapped = ValueError(message)
        raise wrapped from error
    build = config.get("build") or {}
    if not getattr(model, "built", False) and build.get("input_shape") is not None:
        model.build(_shape_from_json(build["input_shape"]))
    return model


def _check_built(model, config, metadata, filepath):
    if getattr(model, "built", True) or model.variable_paths():
        return
    count = metadata.get("parameter_count") if isinstance(metadata, dict) else None
    if count == 0:
        return
    raise ValueError(
        f"Cannot rebuild the model saved in {filepath!r}: {config['class_name']} "
        f"{getattr(model, 'name', '')!r} is not built by its config and the file records no "
        f"input shape to build it with (it was saved before it was built, or by a zoo that "
        f"did not record the shape of its first call). Construct it yourself, call "
        f"model.build(input_shape), then model.load_weights({filepath!r})."
    )


def _load_archive_weights(model, archive, filepath):
    if WEIGHTS not in archive.namelist():
        raise _not_readable(filepath, f"the archive has no {WEIGHTS!r}")
    display = f"{filepath}::{WEIGHTS}"
    with tempfile.TemporaryDirectory(prefix="zoo-load-") as scratch:
        try:
            extracted = archive.extract(WEIGHTS, scratch)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise _not_readable(filepath, f"{WEIGHTS!r} is damaged: {error}") from None
        weights_lib.load_weights_file(model, extracted, display=display)


def load_weights_from_archive(model, filepath):
    """``model.load_weights("x.zoo")``: load only the weights member of a model file."""
    with _open_archive(filepath) as archive:
        _load_archive_weights(model, archive, filepath)


def load_model(filepath, custom_objects=None, safe_mode=True, compile=True):
    """Rebuild a model saved with ``model.save("x.zoo")`` and load its weights.

    ``custom_objects`` maps class names to classes not registered with
    ``@zoo.saving.register_serializable``. With ``safe_mode=True`` (the default) a config
    that carries Python code is refused before anything is constructed.
    """
    filepath = os.fspath(filepath)
    with _open_archive(filepath) as archive:
        config, metadata = _read_config(archive, filepath, safe_mode)
        model = _rebuild(config, filepath, custom_objects, safe_mode)
        _check_built(model, config, metadata, filepath)
        _load_archive_weights(model, archive, filepath)
    compile_config = config.get("compile_config")
    if compile and compile_config and callable(getattr(model, "compile_from_config", None)):
        model.compile_from_config(compile_config)
    return model
