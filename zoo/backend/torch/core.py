"""PyTorch backend core: tensors are torch.Tensor; a variable holds a torch.nn.Parameter."""
import numpy as np
import torch

from zoo.backend.common import dtypes
from zoo.backend.common.global_state import _STATE
from zoo.backend.common.variables import Variable as BaseVariable

SUPPORTS_GRADIENTS = True
DYNAMIC_SHAPES = True

TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint16": torch.uint16,
    "uint32": torch.uint32,
    "uint64": torch.uint64,
    "bool": torch.bool,
}
_ZOO_DTYPES = {v: k for k, v in TORCH_DTYPES.items()}


def _get_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


_DEVICE = _get_device()


def to_framework_dtype(dtype):
    """zoo dtype name -> torch.dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    return TORCH_DTYPES[dtypes.standardize_dtype(dtype)]


class Variable(BaseVariable):
    def _to_backend(self, value, dtype):
        return convert_to_tensor(value, dtype).detach()

    def _initialize(self, tensor):
        requires_grad = self.trainable and dtypes.is_float(self._dtype)
        return torch.nn.Parameter(tensor, requires_grad=requires_grad)

    def _direct_assign(self, tensor):
        with torch.no_grad():
            self._value.copy_(tensor)

    # Deferred init: the modules that track this variable register its Parameter once it
    # exists (until then they hold None under its name; see zoo/backend/torch/layer.py).
    def _own(self, tensor):
        return tensor.clone(memory_format=torch.contiguous_format)

    def _adopt(self, array):
        if array.flags.c_contiguous and array.flags.writeable and array.dtype.name != "bfloat16":
            return torch.from_numpy(array).to(_DEVICE)
        return None

    def _on_materialized(self):
        for module in self.__dict__.pop("_torch_owners", ()):
            module._parameters[self.name] = self._value

    def _on_trainable_changed(self):
        value = self.__dict__.get("_value")
        if value is not None and value.is_floating_point():
            value.requires_grad_(self._trainable)  # frozen weights get no .grad in backward

    def assign_add(self, delta):
        """In place (one kernel) when nothing needs the general path: a metric's running
        total or an optimizer's step count, updated every step."""
        value = self._value
        if value is not None and getattr(_STATE, "stateless_scope", None) is None and (
                type(delta) in (int, float) and value.is_floating_point()
                or torch.is_tensor(delta) and delta.dtype == value.dtype
                and delta.shape in (value.shape, ())):
            with torch.no_grad():
                value.add_(delta.detach() if torch.is_tensor(delta) else delta)
            return delta
        return super().assign_add(delta)

    # torch functions called on a Variable read its current value.
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        def unwrap(x):
            if isinstance(x, BaseVariable):
                return x.value
            if isinstance(x, (list, tuple)):
                return type(x)(unwrap(e) for e in x)
            return x

        return func(*unwrap(args), **{k: unwrap(v) for k, v in (kwargs or {}).items()})


def is_tensor(x):
    return torch.is_tensor(x)


def convert_to_tensor(x, dtype=None):
    if isinstance(x, BaseVariable):
        x = x.value
        if dtype is None:
            return x
    if dtype is not None:
        torch_dtype = to_framework_dtype(dtype)
        if torch.is_tensor(x):
            return x if x.dtype == torch_dtype else x.to(torch_dtype)
        if isinstance(x, (list, tuple)) and any(torch.is_tensor(e) for e in x):
            return torch.stack([convert_to_tensor(e, dtype) for e in x])
        if dtypes.standardize_dtype(dtype) == "bfloat16":
            return torch.as_tensor(np.asarray(x, dtype=np.float32), device=_DEVICE).to(torch_dtype)
        return torch.as_tensor(np.asarray(x, dtype=dtypes.to_numpy_dtype(dtype)), device=_DEVICE)
    if torch.is_tensor(x):
        return x
    if isinstance(x, bool):
        return torch.tensor(x, dtype=torch.bool, device=_DEVICE)
    if isinstance(x, int):
        return torch.tensor(x, dtype=torch.int32, device=_DEVICE)
    if isinstance(x, float):
        return torch.tensor(x, dtype=to_framework_dtype(dtypes.config.floatx()), device=_DEVICE)
    if isinstance(x, (list, tuple)) and any(torch.is_tensor(e) for e in x):
        return torch.stack([convert_to_tensor(e) for e in x])
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, (np.ndarray, np.generic)):
        array = array.astype(dtypes.to_numpy_dtype(dtypes.config.floatx()))
    elif array.dtype == np.int64 and not isinstance(x, (np.ndarray, np.generic)):
        array = array.astype(np.int32)
    if array.dtype.name == "bfloat16":
        return torch.as_tensor(array.astype(np.float32), device=_DEVICE).to(torch.bfloat16)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array).copy()
    return torch.as_tensor(array, device=_DEVICE)


def convert_to_numpy(x):
    if isinstance(x, BaseVariable):
        x = x.value
    if torch.is_tensor(x):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            return x.float().cpu().numpy().astype(dtypes.to_numpy_dtype("bfloat16"))
        return x.cpu().numpy()
    return np.asarray(x)


def cast(x, dtype):
    x = convert_to_tensor(x)
    torch_dtype = to_framework_dtype(dtype)
    return x if x.dtype == torch_dtype else x.to(torch_dtype)


def dtype_of(x):
    return _ZOO_DTYPES[x.dtype]


def shape(x):
    return tuple(x.shape)


def device_name():
    return _DEVICE


# -- control flow (called by zoo.ops.control_flow; Python loops) ---------------------------
# (ops.slice / ops.slice_update are dynamic_slice / dynamic_update_slice here, so that the
# builtin `slice` stays usable in this module.)

from zoo.backend.common.python_loops import cond, fori_loop, while_loop  # noqa: E402,F401


def scan(f, init, xs, length, reverse, unroll):
    carry, ys = init, []
    steps = range(int(length) - 1, -1, -1) if reverse else range(int(length))
    for i in steps:
        carry, y = f(carry, [x[i] for x in xs])
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:  # learn the per-step shapes from one call on zeros
        _, y = f(carry, [torch.zeros_like(x[0:1])[0] for x in xs])
        return carry, [torch.zeros((0, *v.shape), dtype=v.dtype, device=v.device) for v in y]
    return carry, [torch.stack([y[j] for y in ys]) for j in range(len(ys[0]))]


def switch(index, branches, *operands):
    index = min(max(int(index), 0), len(branches) - 1)
    return branches[index](*operands)


def _block(inputs, start_indices, shape):
    starts = [min(max(int(s), 0), d - n) for s, d, n in zip(start_indices, inputs.shape, shape)]
    return tuple(slice(s, s + n) for s, n in zip(starts, shape))


def dynamic_slice(inputs, start_indices, shape):
    return inputs[_block(inputs, start_indices, shape)]


def dynamic_update_slice(inputs, start_indices, updates, in_place=False):
    out = inputs if in_place else inputs.clone()
    out[_block(inputs, start_indices, updates.shape)] = updates
    return out


def stop_gradient(x):
    return x.detach()
