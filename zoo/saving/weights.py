"""The ``.weights.h5`` format: one HDF5 dataset per variable, at the variable's path.

Layout of a file written by ``model.save_weights("x.weights.h5")``::

    /                       attrs: format="zoo.weights", format_version=1,
                                   zoo_version, backend (the one that wrote it)
    /dense/kernel           float32 dataset of shape (4, 3)
    /dense/bias             ...
    /encoder/layer_0/...    HDF5 groups follow the '/' in the variable path

bfloat16 has no HDF5 type: such a variable is stored as its uint16 bit pattern with the
dataset attribute ``dtype="bfloat16"``. Every other dtype is stored natively.

Saving is atomic: the file is written under a temporary name in the target directory,
fsynced, then renamed over the target; if anything fails, the temporary file is removed
and an existing file at the target is left untouched.

Loading checks first (metadata only: names and shapes), then assigns: if any variable is
missing, unexpected or of the wrong shape, a ValueError lists every mismatch and no
variable is changed. Arrays are then read one dataset at a time, so at most one tensor is
held in host memory beyond the model's own variables.
"""
import contextlib
import os
import secrets

import numpy as np

FORMAT = "zoo.weights"
FORMAT_VERSION = 1
SUFFIX = ".weights.h5"
BFLOAT16_ATTR = "bfloat16"


# -- atomic file writes -------------------------------------------------------------------

@contextlib.contextmanager
def atomic_write(filepath):
    """Yield a temporary path next to ``filepath``; on success it replaces ``filepath``.

    The temporary file lives in the target's directory (so the final ``os.replace`` is a
    rename on one filesystem), is fsynced before the rename, and is deleted on any failure.
    """
    filepath = os.path.abspath(os.fspath(filepath))
    directory, base = os.path.split(filepath)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to {filepath!r}: directory {directory!r} "
                                f"does not exist.")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot save to {filepath!r}: it is a directory.")
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)  # umask applies
        except FileExistsError:
            continue
        os.close(fd)
        break
    try:
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory):
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- helpers ------------------------------------------------------------------------------

def _h5py():
    import h5py

    return h5py


def _check_suffix(filepath, action):
    if not filepath.endswith(SUFFIX):
        raise ValueError(
            f"Cannot {action} weights file {filepath!r}: the file name must end with "
            f"'{SUFFIX}' (e.g. 'model{SUFFIX}'). To save a whole model, use model.save('x.zoo')."
        )


def _model_description(model):
    return f"model {getattr(model, 'name', '?')!r} ({type(model).__name__})"


def _variable_paths(model):
    if hasattr(model, "variable_paths"):
        return model.variable_paths()
    return {v.path: v for v in model.variables}


def _to_storable(array):
    """numpy array -> (array HDF5 can store, dtype attribute or None)."""
    array = np.asarray(array)
    if array.dtype.name == "bfloat16":
        return array.view(np.uint16), BFLOAT16_ATTR
    return array, None


def _from_stored(array, dtype_attr):
    if dtype_attr == BFLOAT16_ATTR:
        import ml_dtypes

        return np.asarray(array).view(ml_dtypes.bfloat16)
    return array


def _attr_str(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _attr_str(value.item())
    return value


# -- save ---------------------------------------------------------------------------------

def write_weights_file(model, path):
    """Write ``model``'s variables into a new HDF5 file at ``path`` (not atomic by itself)."""
    paths = _variable_paths(model)
    if not paths and not getattr(model, "built", True):
        raise ValueError(
            f"Cannot save the weights of {_model_description(model)}: it is not built yet "
            f"(it has no variables). Call it on data or call model.build(input_shape) first."
        )
    write_variables_file(paths.items(), path, _model_description(model))


def write_variables_file(items, path, description="the model"):
    """Write ``(key, variable)`` pairs into a new HDF5 file at ``path``, one dataset per key
    (not atomic by itself). Preset shards use it with a subset of a model's variables."""
    import zoo

    h5py = _h5py()
    # No HDF5 file lock: the file is private until the atomic rename publishes it.
    with h5py.File(path, "w", track_order=True, locking=False) as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["zoo_version"] = zoo.__version__
        f.attrs["backend"] = zoo.config.backend()
        for var_path, variable in items:
            data, dtype_attr = _to_storable(variable.numpy())
            try:
                dataset = f.create_dataset(var_path, data=data)
            except ValueError as error:  # e.g. a name used both as a group and a dataset
                raise ValueError(
                    f"Cannot store variable {var_path!r} of {description}: {error}"
                ) from error
            if dtype_attr is not None:
                dataset.attrs["dtype"] = dtype_attr
            del data


def stored_size(variable):
    """Bytes a variable takes in a weights file (for splitting files into shards)."""
    from zoo.backend.common import dtypes

    return variable.size * dtypes.to_numpy_dtype(variable.dtype).itemsize


def save_weights(model, filepath):
    """Save every variable of ``model`` to ``filepath`` (must end with ``.weights.h5``)."""
    filepath = os.fspath(filepath)
    _check_suffix(filepath, "save")
    with atomic_write(filepath) as tmp:
        write_weights_file(model, tmp)


# -- load ---------------------------------------------------------------------------------

def _not_readable(display, reason):
    return ValueError(f"{display!r} is not a readable zoo weights file ({reason}).")


@contextlib.contextmanager
def _open_weights(path, display):
    h5py = _h5py()
    if not os.path.exists(path):
        raise FileNotFoundError(f"Weights file {display!r} does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Weights file {display!r} is a directory.")
    try:
        # No HDF5 file lock: files are published by an atomic rename, so a reader never
        # sees a partial file, and locks fail on some network and read-only filesystems.
        f = h5py.File(path, "r", locking=False)
    except (OSError, ValueError, RuntimeError) as error:
        raise _not_readable(display, f"{type(error).__name__}: {error}") from None
    try:
        try:
            fmt = _attr_str(f.attrs.get("format"))
            version = f.attrs.get("format_version")
            written_by = _attr_str(f.attrs.get("zoo_version"))
        except (OSError, RuntimeError, KeyError, TypeError) as error:
            raise _not_readable(display, f"{type(error).__name__}: {error}") from None
        if fmt != FORMAT:
            raise _not_readable(display, f"it is an HDF5 file without the attribute "
                                         f"format={FORMAT!r}")
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise _not_readable(display, f"bad format_version {version!r}") from None
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{display!r} uses zoo weights format version {version}, newer than this "
                f"zoo supports ({FORMAT_VERSION}); it was written by zoo "
                f"{written_by}. Upgrade zoo to load it."
            )
        yield f
    finally:
        f.close()


def _file_entries(f, display):
    """{path: (shape, dtype attribute or None, stored dtype)} per dataset; metadata only."""
    h5py = _h5py()
    entries = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            entries[name] = (tuple(int(d) for d in obj.shape), _attr_str(obj.attrs.get("dtype")),
                             obj.dtype)

    try:
        f.visititems(visit)
    except (OSError, RuntimeError, KeyError) as error:
        raise _not_readable(display, f"{type(error).__name__}: {error}") from None
    return entries


def _format_list(items):
    return "\n".join(f"    {item}" for item in items)


def check_compatible(model, file_entries, display):
    """Raise a ValueError listing every path/shape mismatch between model and file."""
    return check_variables(_variable_paths(model), file_entries, display,
                           _model_description(model), built=getattr(model, "built", True))


def check_variables(variables, file_entries, display, description, allow_unexpected=False,
                    built=True):
    """Raise a ValueError listing every mismatch between ``variables`` ({key: Variable}) and
    ``file_entries``; with ``allow_unexpected`` extra keys in the file are fine."""
    missing = [p for p in variables if p not in file_entries]
    unexpected = [] if allow_unexpected else [p for p in file_entries if p not in variables]
    shapes = [
        f"{p}: model has shape {tuple(v.shape)}, file has shape {file_entries[p][0]}"
        for p, v in variables.items()
        if p in file_entries and tuple(v.shape) != file_entries[p][0]
    ]
    bad_dtypes = [
        f"{p}: stored as {file_entries[p][2]}, which is not a numeric dtype"
        for p in variables if p in file_entries and file_entries[p][2].kind not in "biuf"
    ]
    if not (missing or unexpected or shapes or bad_dtypes):
        return variables
    count = len(missing) + len(unexpected) + len(shapes) + len(bad_dtypes)
    lines = [f"Cannot load weights from {display!r} into {description}: "
             f"{count} mismatch{'es' if count != 1 else ''}; no variable was changed."]
    if missing:
        lines.append(f"  missing in file ({len(missing)}; the model has them, the file does not):")
        lines.append(_format_list(missing))
    if unexpected:
        lines.append(f"  unexpected in file ({len(unexpected)}; the file has them, "
                     f"the model does not):")
        lines.append(_format_list(unexpected))
    if shapes:
        lines.append(f"  shape mismatches ({len(shapes)}):")
        lines.append(_format_list(shapes))
    if bad_dtypes:
        lines.append(f"  unreadable dtypes ({len(bad_dtypes)}):")
        lines.append(_format_list(bad_dtypes))
    if not variables and not built:
        lines.append("  The model is not built (it has no variables yet): call it on data or "
                     "call model.build(input_shape) before loading weights.")
    raise ValueError("\n".join(lines))


def read_entries(files):
    """{key: (shape, dtype attribute, stored dtype, file index)} over ``files``, a list of
    ``(path, display)`` (one weights file, or the shards of one); metadata only."""
    entries = {}
    for index, (path, display) in enumerate(files):
        with _open_weights(path, display) as f:
            for key, entry in _file_entries(f, display).items():
                if key in entries:
                    raise _not_readable(display, f"{key!r} is also stored in "
                                                 f"{files[entries[key][3]][1]!r}")
                entries[key] = entry + (index,)
    return entries


def _aligned_empty(shape, dtype, alignment=256):
    """An uninitialized array whose data is ``alignment``-byte aligned: TensorFlow then
    wraps it without a copy (it copies arrays that are not), torch and NumPy as before."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + alignment, dtype=np.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def _read_array(f, key, entry, target, display):
    dtype_attr = entry[1]
    try:
        dataset = f[key]
        if dtype_attr is None and dataset.dtype != target and target.kind in "biuf" \
                and target.name != "bfloat16":
            array = dataset.astype(target)[()]  # convert while reading: one copy
        elif dataset.shape and dataset.size:
            array = _aligned_empty(dataset.shape, dataset.dtype)
            dataset.read_direct(array)
        else:
            array = dataset[()]
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as error:
        raise _not_readable(
            display, f"reading {key!r} failed with {type(error).__name__}: {error}"
        ) from None
    array = np.asarray(_from_stored(array, dtype_attr))
    return array if array.dtype == target else array.astype(target)


def _read_slice(f, key, entry, target, display, index):
    """``index`` (a tuple of slices) of dataset ``key``: one device's part of a tensor."""
    try:
        array = f[key][index] if f[key].shape else f[key][()]
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as error:
        raise _not_readable(
            display, f"reading {key!r}{list(index)} failed with {type(error).__name__}: {error}"
        ) from None
    array = np.asarray(_from_stored(array, entry[1]))
    return array if array.dtype == target else array.astype(target)


def load_variables(variables, files, description, allow_unexpected=False, entries=None,
                   display=None):
    """Assign ``variables`` ({key in file: Variable}) from ``files`` ([(path, display)]).

    Every file is checked first (names and shapes, metadata only); then datasets are read
    one at a time, file by file, so at most one tensor is in flight beyond the variables.
    """
    from zoo.backend.common import dtypes

    if entries is None:
        entries = read_entries(files)
    display = display or ", ".join(d for _, d in files)
    check_variables(variables, entries, display, description, allow_unexpected)
    for index, (path, file_display) in enumerate(files):
        keys = [k for k in variables if entries[k][3] == index]
        if not keys:
            continue
        with _open_weights(path, file_display) as f:
            for key in keys:  # one tensor in flight at a time
                variable = variables[key]
                target = dtypes.to_numpy_dtype(variable.dtype)
                if variable._distribution is not None:  # sharded: each device's slice only
                    variable._assign_loaded_slices(
                        lambda index, key=key: _read_slice(f, key, entries[key], target,
                                                           file_display, index))
                    continue
                array = _read_array(f, key, entries[key], target, file_display)
                variable._assign_loaded(array)  # the array is not used again
                del array


def load_weights_file(model, path, display=None):
    """Load an HDF5 weights file at ``path`` into ``model``; errors name ``display``."""
    display = display or path
    entries = read_entries([(path, display)])
    check_compatible(model, entries, display)
    load_variables(_variable_paths(model), [(path, display)], _model_description(model),
                   entries=entries, display=display)


def load_weights(model, filepath):
    """Load ``filepath`` (a ``.weights.h5`` file, or a ``.zoo`` model file) into ``model``."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".zoo"):
        from zoo.saving import model_file

        return model_file.load_weights_from_archive(model, filepath)
    _check_suffix(filepath, "load")
    load_weights_file(model, filepath)
