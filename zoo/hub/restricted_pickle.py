"""Read a torch checkpoint (``torch.save``'s zip format) with the standard library and NumPy
only: no torch import, and no code from the file executed.

A torch zip checkpoint is a zip archive whose entries share one top folder ``<prefix>/``:

    <prefix>/data.pkl         the pickled object (protocol 2), tensors as persistent ids
    <prefix>/data/<key>       the raw bytes of one storage (a flat array)
    <prefix>/byteorder        "little" or "big" (absent in old files: little)
    <prefix>/version, .format_version, .storage_alignment, ...   (not needed here)

A tensor is pickled as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks[, metadata])``, and its storage as the persistent id
``("storage", torch.<Type>Storage, key, location, numel)``; a parameter wraps it in
``torch._utils._rebuild_parameter(tensor, requires_grad, backward_hooks)``. Here a storage
is a NumPy array over ``data/<key>`` (dtype from the storage type, byte order from
``byteorder``) and a tensor a NumPy array view of it (offset, shape and strides honoured,
bounds checked, copied out).

Unpickling runs whatever callables the pickle names, which is how a malicious checkpoint
runs code on ``torch.load``. ``RestrictedUnpickler.find_class`` resolves only:

- torch's tensor rebuild functions and storage types (reimplemented above, over NumPy);
- data: ``collections.OrderedDict``, ``set``, ``frozenset``, ``torch.Size`` (a tuple),
  ``_codecs.encode`` of text with latin-1 (protocol 2's ``bytes``), ``pathlib`` paths and
  ``torch.device`` (both as text), and
  NumPy scalars / dtypes / arrays of plain numeric types (rebuilt here from their bytes);
- the class names of ``module_globals`` (an allow-list the caller passes, e.g. the
  ultralytics and ``torch.nn`` modules of a YOLOv8 checkpoint): each becomes an INERT
  placeholder class (``Recorded``), whose instances record the arguments they were made
  with and the state the pickle gives them (``__dict__``: ``_modules``, ``_parameters``,
  ``_buffers``, ...). Nothing of the named module is imported, nothing of it runs.

What ultralytics' own checkpoints name (checked by saving them: ``YOLO.save`` and the
trainer's layout after ``strip_optimizer``): ``_rebuild_tensor_v2``, ``_rebuild_parameter``,
Half/Float/LongStorage, ``OrderedDict``, ``set``, ``_codecs.encode`` and NumPy scalars (the
trainer's metrics), and their model classes. ``torch.storage._load_from_bytes`` (a tensor
pickled with plain ``pickle``, which calls ``torch.load`` again) is not allowed.

Anything else (``os.system``, ``builtins.eval``, ``subprocess.Popen``, ...) is refused with a
``RefusedGlobalError`` naming the global and the file, before it could be called. So a file
read here needs no ``allow_pickle`` opt-in: it is never unpickled in the dangerous sense.

``module_state_dict(recorded_module)`` walks a recorded ``torch.nn.Module`` tree into the
flat ``{name: array}`` of torch's ``state_dict()`` (``model.0.conv.weight``, ...).
"""
import _compat_pickle
import collections
import io
import os
import pickle
import posixpath
import zipfile

import numpy as np


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: damaged, truncated, of an unknown layout (the
    message names the file)."""


class RefusedGlobalError(CheckpointError, pickle.UnpicklingError):
    """The pickle names a global that is not on the allow-list (the message names it)."""


# -- storages and tensors -------------------------------------------------------------------

STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool",
}
BFLOAT16_ITEMSIZE = 2
MAX_EXPANDED_ELEMENTS = 1 << 24  # a view may repeat elements (stride 0) up to this many more


class StorageType:
    """What ``torch.<Type>Storage`` resolves to: the dtype a storage's bytes hold."""

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]

    def __repr__(self):
        return f"torch.{self.name}"

    def __setstate__(self, state):
        raise pickle.UnpicklingError(f"the pickle sets state on torch.{self.name}")


def _itemsize(dtype):
    return BFLOAT16_ITEMSIZE if dtype == "bfloat16" else np.dtype(dtype).itemsize


def _bfloat16_to_float32(raw_uint16):
    """bfloat16 bits are the top half of a float32's (NumPy has no bfloat16)."""
    return (raw_uint16.astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    """``torch._utils._rebuild_tensor_v2`` over a NumPy storage: the view, copied out."""
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise pickle.UnpicklingError(f"a tensor's storage is {type(storage).__name__}, not a "
                                     f"storage of the archive")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = int(storage_offset)
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride) \
            or offset < 0:
        raise pickle.UnpicklingError(f"a tensor has an invalid layout (size {size}, stride "
                                     f"{stride}, offset {offset})")
    if 0 in size:
        return np.zeros(size, storage.dtype)
    if int(np.prod(size, dtype=np.float64)) > storage.size + MAX_EXPANDED_ELEMENTS:
        raise pickle.UnpicklingError(f"a tensor of size {size} over a storage of "
                                     f"{storage.size} elements (an expansion zoo refuses)")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.size:
        raise pickle.UnpicklingError(f"a tensor (size {size}, stride {stride}, offset "
                                     f"{offset}) reaches element {last} of a storage of "
                                     f"{storage.size}")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=tuple(s * item for s in stride),
                                           writeable=False)
    return np.array(view)  # a contiguous copy, owning its memory


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    """``torch._utils._rebuild_parameter`` (and ``_with_state``): the tensor itself."""
    return data


def _codecs_encode(text, encoding="utf-8", errors="strict"):
    """``_codecs.encode(str, "latin1")``: how protocol 2 pickles ``bytes`` (NumPy scalars'
    data); only text -> bytes with a latin-1 / utf-8 codec."""
    if not isinstance(text, str) or str(encoding).lower().replace("_", "-") not in (
            "latin1", "latin-1", "iso-8859-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError(f"_codecs.encode of {type(text).__name__} with "
                                     f"{encoding!r}")
    return text.encode(encoding, "strict")


def _path_text(*parts):
    """``pathlib.PosixPath("a", "b")`` (training metadata): the path as text."""
    if not all(isinstance(p, str) for p in parts):
        raise pickle.UnpicklingError("a pickled path of non-text parts")
    return posixpath.join(*parts) if parts else "."


def _torch_device(kind, index=None):
    """``torch.device("cpu")``: the device as text ("cuda:0")."""
    if not isinstance(kind, str) or not (index is None or isinstance(index, int)):
        raise pickle.UnpicklingError("a pickled torch.device of unknown form")
    return kind if index is None else f"{kind}:{index}"


def _torch_size(*args):
    return tuple(args[0]) if len(args) == 1 else tuple(args)


# -- NumPy data (scalars in training metadata: best_fitness, metrics) -----------------------

_NUMERIC_KINDS = "biufc"


def _numpy_dtype(name, align=False, copy=True):
    """``numpy.dtype(name, ...)`` for plain numeric and byte-string names only."""
    try:
        dtype = np.dtype(str(name))
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in _NUMERIC_KINDS + "SU" or dtype.fields:
        raise pickle.UnpicklingError(f"numpy dtype {name!r} is not a plain numeric type")
    return dtype


def _numpy_scalar(dtype, data=None):
    """``numpy.core.multiarray.scalar(dtype, bytes)``: the value from its bytes."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS \
            or not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise pickle.UnpicklingError("a numpy scalar that is not a plain numeric value")
    return np.frombuffer(data, dtype)[0]


class _NumpyArray:
    """``numpy.core.multiarray._reconstruct(ndarray, shape, typecode)`` then BUILD with
    ``(version, shape, dtype, is_fortran, bytes)``: a numeric array from its bytes."""

    def __init__(self, *args):
        self.value = None

    def __setstate__(self, state):
        try:
            _, shape, dtype, fortran, raw = state
        except (TypeError, ValueError):
            raise pickle.UnpicklingError("a numpy array with an unknown state") from None
        if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS \
                or not isinstance(raw, bytes):
            raise pickle.UnpicklingError("a numpy array that is not plain numeric data")
        shape = tuple(int(s) for s in shape)
        if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise pickle.UnpicklingError(f"a numpy array of shape {shape} with {len(raw)} bytes")
        self.value = np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C")


# -- inert placeholders of allowed classes --------------------------------------------------

class Recorded:
    """An instance of an allowed class, recorded, not made: ``qualified_name`` is the global
    the pickle named, ``args`` what it was constructed with, ``state`` what the pickle set
    (its ``__dict__``). No method of the real class exists here."""

    qualified_name = "?"

    def __new__(cls, *args, **kwargs):
        instance = object.__new__(cls)
        instance.args, instance.state = args, {}
        return instance

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            state = {"__state__": state}
        self.state.update(state)

    @property
    def class_name(self):
        return self.qualified_name.rsplit(".", 1)[-1]

    def __repr__(self):
        return f"<recorded {self.qualified_name}>"


def placeholder_class(qualified_name, _cache={}):
    """The one Recorded subclass standing for ``qualified_name``."""
    if qualified_name not in _cache:
        name = qualified_name.rsplit(".", 1)[-1]
        _cache[qualified_name] = type(name, (Recorded,), {"qualified_name": qualified_name,
                                                          "__module__": __name__})
    return _cache[qualified_name]


# -- the unpickler --------------------------------------------------------------------------

class _Function:
    """An allowed function as the unpickler hands it out: callable, and refusing the
    pickle's BUILD (which would otherwise set attributes such as ``__defaults__`` on the
    shared function object itself)."""

    def __init__(self, function):
        self._function = function

    def __call__(self, *args):
        return self._function(*args)

    def __setstate__(self, state):
        raise pickle.UnpicklingError(f"the pickle sets state on {self._function.__name__}")

    def __repr__(self):
        return f"<allowed {self._function.__name__}>"


_TORCH_FUNCTIONS = {
    ("torch._utils", "_rebuild_tensor_v2"): _Function(_rebuild_tensor),
    ("torch._utils", "_rebuild_parameter"): _Function(_rebuild_parameter),
    ("torch._utils", "_rebuild_parameter_with_state"): _Function(_rebuild_parameter),
    ("torch", "Size"): _Function(_torch_size),
    ("_codecs", "encode"): _Function(_codecs_encode),
    ("torch", "device"): _Function(_torch_device),
    **{("pathlib", name): _Function(_path_text) for name in
       ("Path", "PosixPath", "WindowsPath", "PurePath", "PurePosixPath", "PureWindowsPath")},
}
_DATA = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
}
_NUMPY = {"dtype": _Function(_numpy_dtype), "scalar": _Function(_numpy_scalar),
          "_reconstruct": _NumpyArray,
          "ndarray": _NumpyArray}
_NUMPY_MODULES = ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles ``data.pkl`` of an archive, resolving only the globals described in the
    module docstring. ``module_globals``: the allowed class names ("module.Class") that
    become Recorded placeholders. ``storage(key, storage_type, numel)`` gives a storage."""

    def __init__(self, file, path, module_globals, storage):
        super().__init__(file)
        self.path = path
        self.module_globals = frozenset(module_globals)
        self.storage = storage

    def find_class(self, module, name):
        # Python 2 names (protocol 2 writes them), mapped as pickle's fix_imports does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        key = (module, name)
        if key in _TORCH_FUNCTIONS:
            return _TORCH_FUNCTIONS[key]
        if key in _DATA:
            return _DATA[key]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        if module in _NUMPY_MODULES and name in _NUMPY and (name != "ndarray"
                                                             or module == "numpy"):
            return _NUMPY[name]
        qualified = f"{module}.{name}"
        if qualified in self.module_globals:
            return placeholder_class(qualified)
        raise RefusedGlobalError(
            f"{self.path}: the checkpoint's pickle names the global {qualified!r}, which zoo "
            f"does not allow (a checkpoint may only name torch's tensor rebuild functions, "
            f"storages, plain data and the model classes zoo knows); nothing was executed.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], StorageType)):
            raise pickle.UnpicklingError(f"{self.path}: unknown persistent id {pid!r:.200}")
        _, storage_type, key, _location, numel = pid
        return self.storage(str(key), storage_type.dtype, int(numel))


# -- the archive ----------------------------------------------------------------------------

def _archive_prefix(archive, path):
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
        raise CheckpointError(f"{path}: a torch zip checkpoint has one <prefix>/data.pkl; "
                              f"this archive has {len(pickles)}.")
    return pickles[0][:-len("data.pkl")]


def load(path, module_globals=()):
    """The object a torch zip checkpoint holds, tensors as NumPy arrays (bfloat16 as
    float32) and allowed classes as Recorded placeholders. Raises CheckpointError (naming
    ``path``) for a file that is not such a checkpoint or is damaged, RefusedGlobalError
    for a global not allowed."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a directory, not a torch checkpoint file.")
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise CheckpointError(_not_zip_message(path, error)) from None
    with archive:
        prefix = _archive_prefix(archive, path)
        names = set(archive.namelist())
        order = "little"
        if prefix + "byteorder" in names:
            order = _read(archive, prefix + "byteorder", path).decode("ascii", "replace")
            if order not in ("little", "big"):
                raise CheckpointError(f"{path}: unknown byteorder {order!r}.")
        storages = {}

        def storage(key, dtype, numel):
            if key not in storages:
                entry = f"{prefix}data/{key}"
                if entry not in names:
                    raise CheckpointError(f"{path}: the pickle refers to storage {key!r}, "
                                          f"but the archive has no {entry}.")
                raw = _read(archive, entry, path)
                need = numel * _itemsize(dtype)
                if len(raw) < need:
                    raise CheckpointError(f"{path}: storage {entry} holds {len(raw)} bytes; "
                                          f"its {numel} {dtype} elements need {need}.")
                storages[key] = _storage_array(raw[:need], dtype, order)
            return storages[key]

        data = _read(archive, prefix + "data.pkl", path)
        unpickler = RestrictedUnpickler(io.BytesIO(data), path, module_globals, storage)
        try:
            result = unpickler.load()
        except RefusedGlobalError:
            raise
        except CheckpointError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError) as error:
            raise CheckpointError(f"{path}: cannot read the checkpoint's pickle "
                                  f"({type(error).__name__}: {error}).") from None
    return _finish(result)


def _storage_array(raw, dtype, order):
    if dtype == "bfloat16":
        bits = np.frombuffer(raw, ("<" if order == "little" else ">") + "u2")
        return _bfloat16_to_float32(bits)
    np_dtype = np.dtype(dtype)
    if np_dtype.itemsize > 1:
        np_dtype = np_dtype.newbyteorder("<" if order == "little" else ">")
    array = np.frombuffer(raw, np_dtype)
    return array.astype(array.dtype.newbyteorder("=")) if order != "little" else array


def _read(archive, name, path):
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, zipfile.LargeZipFile) as error:
        raise CheckpointError(f"{path}: cannot read {name} from the archive (truncated or "
                              f"damaged? {type(error).__name__}: {error}).") from None


def _not_zip_message(path, error):
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        head = b""
    if head.startswith(b"PK"):
        return (f"{path}: a zip archive that cannot be read (truncated or damaged: "
                f"{error}).")
    if head[:1] == b"\x80":
        return (f"{path} is a legacy (pre-zip, torch < 1.6) pickle, which zoo does not read; "
                f"re-save it with a current torch (torch.save) or use a zip checkpoint.")
    return f"{path} is not a torch zip checkpoint ({error})."


def _finish(value):
    """Replace the NumPy array builders by their arrays (in dicts, lists, states)."""
    seen = set()

    def visit(v):
        if isinstance(v, _NumpyArray):
            return v.value
        if id(v) in seen:
            return v
        if isinstance(v, dict):
            seen.add(id(v))
            for k in list(v):
                v[k] = visit(v[k])
        elif isinstance(v, list):
            seen.add(id(v))
            v[:] = [visit(x) for x in v]
        elif isinstance(v, tuple):
            return tuple(visit(x) for x in v)
        elif isinstance(v, Recorded):
            seen.add(id(v))
            visit(v.state)
        return v

    return visit(value)


# -- recorded torch.nn modules --------------------------------------------------------------

def module_state_dict(module, prefix=""):
    """torch's ``module.state_dict()`` of a Recorded ``torch.nn.Module`` tree: its
    ``_parameters`` and persistent ``_buffers``, then its ``_modules``' (in order), named
    ``<child>.<child>.<tensor>``. -> dict name -> NumPy array."""
    out = collections.OrderedDict()
    _collect(module, prefix, out)
    return out


def _collect(module, prefix, out):
    if not isinstance(module, Recorded):
        raise CheckpointError(f"{prefix or 'the model'} is {type(module).__name__}, not a "
                              f"recorded module")
    state = module.state
    skipped = set(state.get("_non_persistent_buffers_set") or ())
    for table in ("_parameters", "_buffers"):
        for name, value in (state.get(table) or {}).items():
            if value is None or (table == "_buffers" and name in skipped):
                continue
            out[prefix + name] = value
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            _collect(child, f"{prefix}{name}.", out)
