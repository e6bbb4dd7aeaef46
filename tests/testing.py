"""Comparing outputs in tests: one ``to_numpy`` and one ``assert_close`` for every test folder.

    to_numpy(model(x))                      # a tensor, or a dict / list / tuple of them
    assert_close(got, want, atol=1e-5, msg="after reload")
    flatten(outputs)                        # {"sequence_output": ..., "0/boxes": ...}

Each works on any backend's tensors, NumPy arrays and Python numbers, nested in dicts,
lists and tuples.
"""
import numpy as np


def to_numpy(x):
    """``x`` (a tensor of the active backend, an array, a number, or a dict / list / tuple
    of them) with every leaf as a NumPy array; dicts stay dicts, lists lists, tuples tuples."""
    if isinstance(x, dict):
        return {key: to_numpy(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy(value) for value in x)
    if isinstance(x, np.ndarray):
        return x
    from zoo import ops

    return np.asarray(ops.convert_to_numpy(x))


def assert_close(got, want, atol=1e-5, rtol=1e-5, msg=""):
    """``got`` and ``want`` have the same structure (dict keys, sequence lengths), and every
    leaf the same shape and values within ``atol + rtol * |want|``; a failure names the
    leaf (``msg [key]`` / ``msg [index]``). A list against an array (``[[1, 2]]``) is
    compared as an array."""
    got, want = to_numpy(got), to_numpy(want)
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{msg}: got a {type(got).__name__}, want a dict"
        assert got.keys() == want.keys(), \
            f"{msg}: keys {sorted(got)} != {sorted(want)}"
        for key in want:
            assert_close(got[key], want[key], atol, rtol, f"{msg} [{key}]")
        return
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        assert len(got) == len(want), f"{msg}: length {len(got)} != {len(want)}"
        for index, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, atol, rtol, f"{msg} [{index}]")
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{msg}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), atol=atol,
                               rtol=rtol, err_msg=msg)


def flatten(x, prefix=""):
    """A nested output as ``{path: array}`` (dict keys and list indices joined by "/"; a
    single tensor is ``{"output": array}``): a form ``np.savez`` can store."""
    if isinstance(x, dict):
        items = x.items()
    elif isinstance(x, (list, tuple)):
        items = enumerate(x)
    else:
        return {prefix or "output": to_numpy(x)}
    flat = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}/{key}" if prefix else str(key)))
    return flat
