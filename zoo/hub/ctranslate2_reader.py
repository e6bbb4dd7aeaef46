"""Read a CTranslate2 ``model.bin`` with NumPy only (no ctranslate2 import).

The layout (little-endian), as CTranslate2's ``ModelSpec._serialize`` writes it and its
C++ ``Model::load`` reads it; format versions 1 to 6 exist (6 is what CTranslate2 3.x and
4.x write):

    uint32 format version
    v >= 2: string spec name ("WhisperSpec", "TransformerSpec", ...), uint32 spec revision
    uint32 variable count, then per variable:
        string name, uint8 rank, uint32 dims[rank],
        v >= 4: uint8 dtype id (0 float32, 1 int8, 2 int16, 3 int32, 4 float16,
                5 bfloat16), uint32 byte count
        v <= 3: uint8 item size (4 float32, 2 int16, 1 int8), uint32 item count
        the data
    v >= 3: uint32 alias count, then per alias: string alias, string variable name
    string = uint16 length (counting a trailing NUL), the UTF-8 bytes, NUL

``ModelBin(path)`` parses the header when it is opened, every size checked against the
file's length, so a truncated or damaged file is refused then (naming the file and what is
cut short), before a model is built; the data of a tensor is read when it is asked for,
one at a time. Rank-0 variables are the model's attributes (``encoder/num_heads``,
``decoder/activation``, ...), read with the header. Duplicated tensors are stored once
and aliased (``decoder/projection/weight`` -> ``decoder/embeddings/weight`` when tied).

Quantized weights (int8 with a per-row ``<name>_scale``, int16 with a scalar one;
CTranslate2 stores ``q = round(w * scale)``) come back dequantized, ``q / scale``, in
float32; float16 and bfloat16 tensors come back as stored (a converter casts them to the
model's dtype as it assigns them).
"""
import math
import os
import struct

import numpy as np

MODEL_BIN = "model.bin"
FORMAT_VERSIONS = range(1, 7)
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # by dtype id
ITEM_SIZES = {4: "float32", 2: "int16", 1: "int8"}                     # format v1..3


def _numpy_dtype(name):
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


class _Header:
    """Sequential reads of model.bin's header, each checked against the file's length."""

    def __init__(self, handle, path, size):
        self.handle, self.path, self.size = handle, path, size

    def _truncated(self, what, need):
        position = self.handle.tell()
        return ValueError(f"{self.path} is truncated or damaged: reading the {what} needs "
                          f"{need} bytes at offset {position}, but the file has "
                          f"{self.size} bytes. Download or convert it again.")

    def read(self, count, what):
        data = self.handle.read(count)
        if len(data) != count:
            self.handle.seek(-len(data), os.SEEK_CUR)
            raise self._truncated(what, count)
        return data

    def unpack(self, fmt, what):
        return struct.unpack("<" + fmt, self.read(struct.calcsize("<" + fmt), what))

    def uint32(self, what):
        return self.unpack("I", what)[0]

    def uint8(self, what):
        return self.unpack("B", what)[0]

    def string(self, what):
        length = self.unpack("H", what)[0]
        data = self.read(length, what)
        if length == 0 or data[-1:] != b"\0":
            raise ValueError(f"{self.path} is damaged: the {what} is not a NUL-terminated "
                             f"string (at offset {self.handle.tell() - length}).")
        try:
            return data[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{self.path} is damaged: the {what} is not UTF-8.") from None

    def skip(self, count, what):
        """The offset of ``count`` data bytes, which are skipped (they must all be there)."""
        offset = self.handle.tell()
        if offset + count > self.size:
            raise self._truncated(what, count)
        self.handle.seek(count, os.SEEK_CUR)
        return offset


class ModelBin:
    """The variables of a CTranslate2 ``model.bin``: ``keys()``, ``shape(name)`` (no data
    read), ``model_bin[name]`` (a float array; quantized weights dequantized), ``raw(name)``
    (as stored), ``attribute(name)`` (a rank-0 value, or None)."""

    def __init__(self, path):
        self.path = os.path.abspath(os.fspath(path))
        size = os.path.getsize(self.path)
        self._entries = {}     # name -> (shape, dtype, offset, nbytes)
        self._attributes = {}  # rank-0 variables, read now
        with open(self.path, "rb") as handle:
            header = _Header(handle, self.path, size)
            self.version = header.uint32("format version")
            if self.version not in FORMAT_VERSIONS:
                raise ValueError(
                    f"{self.path}: CTranslate2 model.bin format version {self.version} is not "
                    f"one zoo reads (versions {FORMAT_VERSIONS[0]} to {FORMAT_VERSIONS[-1]}, "
                    f"those CTranslate2 up to 4.x writes). Convert the model again with "
                    f"such a CTranslate2, or load the transformers checkpoint instead.")
            if self.version >= 2:
                self.spec = header.string("spec name")
                self.revision = header.uint32("spec revision")
            else:
                self.spec, self.revision = None, 1
            count = header.uint32("variable count")
            for i in range(count):
                self._read_variable(header, i)
            self.aliases = {}
            if self.version >= 3:
                for i in range(header.uint32("alias count")):
                    alias = header.string(f"name of alias {i}")
                    self.aliases[alias] = header.string(f"target of alias {alias!r}")

    def _read_variable(self, header, i):
        name = header.string(f"name of variable {i}")
        rank = header.uint8(f"rank of variable {name!r}")
        shape = header.unpack(f"{rank}I", f"shape of variable {name!r}") if rank else ()
        if self.version >= 4:
            type_id = header.uint8(f"dtype of variable {name!r}")
            if type_id >= len(DTYPES):
                raise ValueError(f"{self.path}: variable {name!r} has dtype id {type_id}, "
                                 f"which CTranslate2 format version {self.version} does not "
                                 f"define (known: {', '.join(DTYPES)}).")
            dtype = _numpy_dtype(DTYPES[type_id])
            nbytes = header.uint32(f"size of variable {name!r}")
        else:
            item_size = header.uint8(f"item size of variable {name!r}")
            if item_size not in ITEM_SIZES:
                raise ValueError(f"{self.path}: variable {name!r} has item size {item_size} "
                                 f"(format version {self.version} knows 1, 2 and 4).")
            dtype = np.dtype(ITEM_SIZES[item_size])
            nbytes = header.uint32(f"size of variable {name!r}") * item_size
        expected = math.prod(shape) * dtype.itemsize
        if nbytes != expected:
            raise ValueError(f"{self.path} is damaged: variable {name!r} of shape "
                             f"{tuple(shape)} and dtype {dtype.name} needs {expected} bytes "
                             f"but the file declares {nbytes}.")
        if rank == 0:
            data = header.read(nbytes, f"value of {name!r}")
            self._attributes[name] = np.frombuffer(data, dtype)[0].item()
        else:
            offset = header.skip(nbytes, f"data of variable {name!r}")
            self._entries[name] = (tuple(shape), dtype, offset, nbytes)

    # -- lookups ------------------------------------------------------------------------------
    def _resolve(self, name):
        target = self.aliases.get(name, name)
        if target not in self._entries:
            raise KeyError(f"{self.path}: no variable {name!r}"
                           + (f" (an alias of {target!r}, which is absent)"
                              if target != name else "") + ".")
        return target

    def keys(self):
        return [n for n in (*self._entries, *self.aliases)
                if self.aliases.get(n, n) in self._entries]

    def __contains__(self, name):
        return self.aliases.get(name, name) in self._entries

    def attribute(self, name, default=None):
        return self._attributes.get(name, default)

    def shape(self, name):
        return self._entries[self._resolve(name)][0]

    def dtype(self, name):
        return self._entries[self._resolve(name)][1]

    def raw(self, name):
        """The stored array (a fresh, writable copy)."""
        shape, dtype, offset, nbytes = self._entries[self._resolve(name)]
        buffer = bytearray(nbytes)
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            if handle.readinto(buffer) != nbytes:
                raise ValueError(f"{self.path} changed while it was read: variable {name!r} "
                                 f"is cut short.")
        return np.frombuffer(buffer, dtype).reshape(shape)

    def __getitem__(self, name):
        array = self.raw(name)
        if array.dtype.kind not in "iu":
            return array
        scale_name = self._resolve(name) + "_scale"
        if scale_name not in self._entries and scale_name not in self._attributes:
            raise ValueError(f"{self.path}: variable {name!r} is {array.dtype.name} with no "
                             f"{scale_name!r}; zoo reads integer weights only as CTranslate2's "
                             f"int8/int16 quantization (with a scale).")
        scale = (self._attributes[scale_name] if scale_name in self._attributes
                 else self.raw(scale_name).astype(np.float32))
        scale = np.reshape(scale, np.shape(scale) + (1,) * (array.ndim - np.ndim(scale)))
        return array.astype(np.float32) / scale


def looks_like_model_bin(path):
    """Whether ``path`` starts as a CTranslate2 model.bin does: a small format version (a
    torch pickle or zip archive does not), or is too short to say (a damaged one, which
    ModelBin then refuses by name). Reads 4 bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) < 4 or struct.unpack("<I", head)[0] < 1 << 16
