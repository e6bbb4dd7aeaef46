"""save_to_preset: write a model (and its preprocessor and components) as a zoo preset directory.

Atomic: everything is written into a temporary sibling directory (``.NAME.tmp-XXXX``),
fsynced, and renamed into place; an existing preset is swapped out only at the very end and
is left intact if anything fails before. No partial directory is ever left behind.

A model with LoRA adapters is saved merged: each adapted kernel as kernel + delta, no
adapter variables, no LoRA entries in the config (zoo/layers/core/lora.py); the live model
keeps its adapters.
"""
import contextlib
import json
import os
import re
import secrets
import shutil

from zoo.hub import preset_format as fmt
from zoo.layers.core import lora
from zoo.saving import serialization
from zoo.saving import weights as weights_lib

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(size):
    """Bytes from an int or a string such as ``"2GB"``, ``"500MiB"``."""
    if isinstance(size, bool):
        raise TypeError(f"max_shard_size must be a number of bytes or a string like '2GB', "
                        f"got {size!r}.")
    if isinstance(size, int):
        value = size
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(size))
        if not match or match.group(2).upper() not in _UNITS:
            raise ValueError(f"max_shard_size {size!r} is not a size (e.g. 2000000000, '2GB', "
                             f"'500MiB').")
        value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value <= 0:
        raise ValueError(f"max_shard_size must be positive, got {size!r}.")
    return value


def _json_text(data, what):
    from zoo.saving.model_file import _json_default

    try:
        return json.dumps(data, indent=2, default=_json_default) + "\n"
    except (TypeError, ValueError) as error:
        raise ValueError(f"Cannot save {what}: its config is not JSON-serializable ({error}). "
                         f"get_config() must return plain data.") from error


def _spec(obj, what):
    name = serialization.registered_name(type(obj))
    if name is None:
        if not type(obj).__module__.startswith("zoo."):
            raise ValueError(
                f"Cannot save {what}: {type(obj).__name__} is not registered for "
                f"serialization; decorate it with @zoo.saving.register_serializable().")
        name = type(obj).__name__
    spec = {"class_name": name, "config": obj.get_config()}
    if serialization.contains_code(spec):
        raise ValueError(f"Cannot save {what} as a preset: its config carries Python code (a "
                         f"function), which a preset never loads. Use named layers/options.")
    return spec


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _shards(variables, max_size):
    """Split [(path, variable)] in order into lists whose stored size stays under max_size
    (a variable larger than the limit gets a file of its own)."""
    shards, current, size = [], [], 0
    for item in variables:
        nbytes = weights_lib.stored_size(item[1])
        if current and size + nbytes > max_size:
            shards.append(current)
            current, size = [], 0
        current.append(item)
        size += nbytes
    if current or not shards:
        shards.append(current)
    return shards


def _write_weights(model, directory, max_shard_size):
    items = lora.merged_items(model)
    description = f"{type(model).__name__} {model.name!r}"
    shards = _shards(items, max_shard_size)
    if len(shards) == 1:
        weights_lib.write_variables_file(items, os.path.join(directory, fmt.WEIGHTS),
                                         description)
        return
    weight_map = {}
    for i, shard in enumerate(shards, start=1):
        name = fmt.shard_name(i, len(shards))
        weights_lib.write_variables_file(shard, os.path.join(directory, name), description)
        weight_map.update({path: name for path, _ in shard})
    total = sum(weights_lib.stored_size(v) for _, v in items)
    _write(os.path.join(directory, fmt.WEIGHTS_INDEX),
           _json_text({"total_size": total, "weight_map": weight_map}, "the weights index"))


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory
    finally:
        os.close(fd)


def _list_files(root):
    out = []
    for parent, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(parent, name)
            out.append((os.path.relpath(full, root).replace(os.sep, "/"), full))
    return out


def _check_target(target):
    if os.path.lexists(target):
        if not os.path.isdir(target) or os.path.islink(target):
            raise FileExistsError(f"Cannot save a preset to {target!r}: it exists and is not a "
                                  f"directory.")
        if os.listdir(target) and not fmt.is_preset_dir(target):
            raise FileExistsError(f"Cannot save a preset to {target!r}: it is a non-empty "
                                  f"directory that is not a zoo preset (no {fmt.METADATA}); "
                                  f"refusing to replace it.")
    parent = os.path.dirname(target)
    if os.path.lexists(parent) and not os.path.isdir(parent):
        raise FileExistsError(f"Cannot save a preset to {target!r}: {parent!r} is not a "
                              f"directory.")
    os.makedirs(parent, exist_ok=True)  # like save_pretrained: missing parents are made


def _publish(tmp, target):
    """Rename ``tmp`` to ``target``; an existing target is replaced only at this point."""
    parent, base = os.path.split(target)
    if not os.path.lexists(target):
        os.rename(tmp, target)
    else:
        old = os.path.join(parent, f".{base}.old-{secrets.token_hex(4)}")
        os.rename(target, old)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    _fsync(parent)


@contextlib.contextmanager
def _staging(target):
    parent, base = os.path.split(target)
    tmp = os.path.join(parent, f".{base}.tmp-{secrets.token_hex(4)}")
    os.mkdir(tmp)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_to_preset(model, directory, tokenizer=None, preprocessor=None, source=None,
                   max_shard_size=fmt.DEFAULT_MAX_SHARD_SIZE):
    """Write ``model`` as a zoo preset at ``directory`` (atomically; see docs/presets.md).

    A Task saves its own preprocessor (and that preprocessor's components: tokenizer, audio
    or image converter, each as ``<kind>.json`` + ``assets/<kind>/``) unless others are
    given. ``source`` is free text saying where the weights came from (default: the handle
    the model was loaded from, if any).
    """
    import zoo
    from zoo.saving.model_file import _build_config

    target = os.path.abspath(os.path.expanduser(os.fspath(directory)))
    max_shard_size = parse_size(max_shard_size)
    if not model.variable_paths() and not getattr(model, "built", True):
        raise ValueError(f"Cannot save {type(model).__name__} {model.name!r} as a preset: it "
                         f"is not built (no variables). Call it on data or build it first.")
    if preprocessor is None:
        preprocessor = getattr(model, "preprocessor", None)
    components = _components(preprocessor, tokenizer)
    spec = lora.strip_config(_spec(model, f"{type(model).__name__} {model.name!r}"))
    build = _build_config(model)
    if build is not None:
        spec["build"] = build
    texts = {fmt.CONFIG: _json_text(spec, "the model")}
    layouts = {}
    for kind, component in components.items():
        layouts[kind] = fmt.component_layout(kind)
        what = f"the {kind.replace('_', ' ')}"
        texts[layouts[kind]["config"]] = _json_text(_spec(component, what), what)
    if preprocessor is not None:
        pre_spec = _spec(preprocessor, "the preprocessor")
        for kind in components:  # each component is saved as <kind>.json
            pre_spec["config"].pop(kind, None)
        texts[fmt.PREPROCESSOR] = _json_text(pre_spec, "the preprocessor")
    if source is None:
        source = getattr(model, "_zoo_preset_source", None)
    _check_target(target)
    with _staging(target) as tmp:
        for name, text in texts.items():
            _write(os.path.join(tmp, name), text)
        for kind, component in components.items():
            assets = os.path.join(tmp, *layouts[kind]["assets"].split("/"))
            os.makedirs(assets)
            component.save_assets(assets)
        _write_weights(model, tmp, max_shard_size)
        files = {}
        for name, full in _list_files(tmp):
            _fsync(full)
            files[name] = fmt.sha256_file(full)
        metadata = {
            "format": fmt.FORMAT,
            "format_version": fmt.FORMAT_VERSION,
            "zoo_version": zoo.__version__,
            "class_name": spec["class_name"],
            "parameter_count": int(model.count_params()) - lora.adapter_size(model),
            "dtype": model.dtype_policy.name,
            "source": source,
            "files": files,
            fmt.COMPONENTS: layouts,
        }
        _write(os.path.join(tmp, fmt.METADATA), _json_text(metadata, "the metadata"))
        _fsync(os.path.join(tmp, fmt.METADATA))
        for parent, _, _ in os.walk(tmp):
            _fsync(parent)
        if _writes_files():
            _check_target(target)
            _publish(tmp, target)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _components(preprocessor, tokenizer):
    """{kind: component} to save: the preprocessor's, with ``tokenizer`` (when given) in
    place of its tokenizer."""
    components = {}
    if preprocessor is not None:
        if hasattr(preprocessor, "components"):
            components.update(preprocessor.components())
        elif getattr(preprocessor, "tokenizer", None) is not None:
            components["tokenizer"] = preprocessor.tokenizer
    if tokenizer is not None:
        components[getattr(tokenizer, "preset_kind", None) or "tokenizer"] = tokenizer
    return components


def _writes_files():
    """In a multi-process run (zoo.distribution) every process gathers the weights (a
    collective) but only process 0 publishes the preset."""
    from zoo import backend

    return backend.distribution is None or backend.distribution.process_index() == 0
