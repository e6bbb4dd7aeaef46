"""The op parity harness: one zoo op against a NumPy reference, on the active backend.

``check_op`` checks, for one call:
  * values against the reference (fp32 to ``atol``),
  * the output dtype against the zoo promotion rule (``expected_dtype`` or the reference's),
  * the symbolic shape rule: the op called on SymbolicTensors of the same shapes (and again
    with the leading dimension unknown) gives the same shape and dtype,
  * gradients of sum(op) for the float inputs against central differences of the reference
    (jax, torch, tensorflow; skipped on numpy, which has no autodiff).
"""
import numpy as np

import zoo
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor

from tests.autodiff import BACKEND, grad, numerical_grad


def _to_numpy(x):
    if isinstance(x, (tuple, list)):
        return type(x)(_to_numpy(e) for e in x)
    return ops.convert_to_numpy(x)


def _spec(x, unknown_batch):
    if isinstance(x, np.ndarray):
        shape = x.shape
        if unknown_batch and len(shape) > 0:
            shape = (None,) + shape[1:]
        return SymbolicTensor(shape, x.dtype.name if x.dtype != np.float64 else "float64")
    return x


def _compare(name, got, want, atol, rtol, expected_dtype):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want), f"{name}: {len(got)} outputs, expected {len(want)}"
        for g, w in zip(got, want):
            _compare(name, g, w, atol, rtol, None)
        return
    got_np = _to_numpy(got)
    want = np.asarray(want)
    assert got_np.shape == want.shape, f"{name}: shape {got_np.shape}, expected {want.shape}"
    if expected_dtype is not None:
        got_dtype = zoo.ops.dtype(got)
        assert got_dtype == expected_dtype, f"{name}: dtype {got_dtype}, expected {expected_dtype}"
    if want.dtype == bool or np.issubdtype(want.dtype, np.integer):
        np.testing.assert_array_equal(got_np, want, err_msg=name)
    else:
        np.testing.assert_allclose(got_np.astype(np.float64), want.astype(np.float64),
                                   atol=atol, rtol=rtol, err_msg=name)


def _check_symbolic(name, op, args, kwargs, out):
    for unknown_batch in (False, True):
        specs = [_spec(a, unknown_batch) for a in args]
        sym = op.shape_rule(*specs, **kwargs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        syms = sym if isinstance(sym, (tuple, list)) else (sym,)
        assert len(outs) == len(syms), f"{name}: shape rule gives {len(syms)} outputs"
        for s, o in zip(syms, outs):
            shape = tuple(np.shape(_to_numpy(o)))
            if unknown_batch and any(isinstance(a, np.ndarray) and a.ndim for a in args):
                assert len(s.shape) == len(shape), f"{name}: symbolic rank {s.shape} vs {shape}"
                for sd, d in zip(s.shape, shape):
                    assert sd is None or sd == d, f"{name}: symbolic shape {s.shape} vs {shape}"
            else:
                assert s.shape == shape, f"{name}: symbolic shape {s.shape}, actual {shape}"
            assert s.dtype == zoo.ops.dtype(o), f"{name}: symbolic dtype {s.dtype} vs {zoo.ops.dtype(o)}"


def check_op(name, reference, *args, kwargs=None, atol=1e-5, rtol=1e-5, expected_dtype=None,
             gradient=True, symbolic=True, grad_atol=1e-3):
    """Run ``zoo.ops.<name>(*args, **kwargs)`` and compare it with ``reference`` (NumPy)."""
    kwargs = kwargs or {}
    op = getattr(ops, name)
    tensors = [ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    out = op(*tensors, **kwargs)
    want = reference(*args, **kwargs)
    _compare(name, out, want, atol, rtol, expected_dtype)
    if symbolic:
        _check_symbolic(name, op, args, kwargs, out)
    float_args = [i for i, a in enumerate(args)
                  if isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64)]
    if gradient and BACKEND != "numpy" and float_args:
        def fn(*floats):
            full = list(tensors)
            for i, f in zip(float_args, floats):
                full[i] = f
            result = op(*full, **kwargs)
            return result[0] if isinstance(result, (tuple, list)) else result

        def ref(*floats):
            full = list(args)
            for i, f in zip(float_args, floats):
                full[i] = f
            result = reference(*full, **kwargs)
            return result[0] if isinstance(result, (tuple, list)) else result

        got = grad(fn, [args[i].astype(np.float64) for i in float_args])
        want_g = numerical_grad(ref, [args[i] for i in float_args])
        for i, g, w in zip(float_args, got, want_g):
            np.testing.assert_allclose(g, w, atol=grad_atol, rtol=1e-3,
                                       err_msg=f"{name}: gradient of argument {i}")
    return out
