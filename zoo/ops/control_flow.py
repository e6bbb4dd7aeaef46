"""Control flow and dynamic slicing: cond, while_loop, fori_loop, scan, map, switch, slice,
slice_update, stop_gradient.

These compile under jax.jit (lax.cond / while_loop / scan, dynamic_slice) and tf.function
(tf.cond / tf.while_loop); on torch and numpy they run as Python control flow. (They live in
their own module because ``slice`` and ``map`` shadow Python builtins.)
"""
from zoo import backend
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = ["cond", "while_loop", "fori_loop", "scan", "map", "switch", "slice", "slice_update",
           "stop_gradient"]


def _flatten(tree):
    """Leaves of a pytree of tuples, lists and dicts (None has no leaves) and its structure."""
    if tree is None:
        return [], None
    if isinstance(tree, (tuple, list)):
        leaves, defs = [], []
        for item in tree:
            sub, d = _flatten(item)
            leaves += sub
            defs.append((len(sub), d))
        return leaves, (type(tree), defs)
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, defs = _flatten([tree[k] for k in keys])
        return leaves, (dict, keys, defs)
    return [tree], "leaf"


def _unflatten(treedef, leaves):
    leaves = list(leaves)
    if treedef is None:
        return None
    if treedef == "leaf":
        return leaves[0]
    if treedef[0] is dict:
        _, keys, defs = treedef
        return dict(zip(keys, _unflatten(defs, leaves)))
    kind, defs = treedef
    items, i = [], 0
    for n, d in defs:
        items.append(_unflatten(d, leaves[i:i + n]))
        i += n
    if kind not in (tuple, list):  # a namedtuple
        return kind(*items)
    return kind(items)


def _map_leaves(fn, tree):
    leaves, treedef = _flatten(tree)
    return _unflatten(treedef, [fn(x) for x in leaves])


def _to_tensor(x):
    return x if isinstance(x, SymbolicTensor) else backend.core.convert_to_tensor(x)


def _symbolic_like(x):
    return rules.symbolic(rules.shape_of(x), rules.concrete_dtype(x))


def _cond_rule(pred, true_fn, false_fn):
    out = true_fn()
    other = false_fn()
    if _flatten(out)[1] != _flatten(other)[1]:
        raise ValueError("cond: true_fn and false_fn must return the same structure.")
    return out


@op(_cond_rule)
def cond(pred, true_fn, false_fn):
    """``true_fn()`` if pred else ``false_fn()``; both branches must return the same
    structure, shapes and dtypes (jax and tensorflow trace both)."""
    if isinstance(pred, (bool, int)):
        return true_fn() if pred else false_fn()
    return backend.core.cond(pred, true_fn, false_fn)


def _loop_vars_rule(cond, body, loop_vars, maximum_iterations=None):
    return _map_leaves(_symbolic_like, loop_vars)


def _as_call(fn, is_seq):
    return (lambda *v: fn(*v)) if is_seq else (lambda *v: fn(v[0]))


@op(_loop_vars_rule)
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most
    ``maximum_iterations`` times). ``loop_vars`` is a tuple/list (unpacked into the calls) or
    a single tensor or dict pytree (passed as one argument); the result has its structure."""
    is_seq = isinstance(loop_vars, (tuple, list))
    init = tuple(loop_vars) if is_seq else (loop_vars,)
    init = tuple(_map_leaves(_to_tensor, v) for v in init)

    def body_fn(*v):
        out = body(*v) if is_seq else body(v[0])
        if not is_seq:
            return (out,)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)

    out = backend.core.while_loop(_as_call(cond, is_seq), body_fn, init, maximum_iterations)
    return type(loop_vars)(out) if is_seq else out[0]


def _fori_rule(lower, upper, body_fun, init_val):
    return _map_leaves(_symbolic_like, init_val)


@op(_fori_rule)
def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i in range(lower, upper); returns the final val."""
    return backend.core.fori_loop(lower, upper, body_fun, _map_leaves(_to_tensor, init_val))


def _scan_rule(f, init, xs=None, length=None, reverse=False, unroll=1):
    x_leaves, x_def = _flatten(xs)
    if length is None:
        length = rules.shape_of(x_leaves[0])[0]
    x = _unflatten(x_def, [rules.symbolic(rules.shape_of(v)[1:], rules.concrete_dtype(v))
                           for v in x_leaves])
    carry, y = f(_map_leaves(_symbolic_like, init), x)
    ys = _map_leaves(lambda v: rules.symbolic((length,) + rules.shape_of(v),
                                              rules.concrete_dtype(v)), y)
    return _map_leaves(_symbolic_like, carry), ys


@op(_scan_rule)
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (a pytree, or None
    with ``length``); returns ``(final_carry, ys)`` with the ys stacked on a new leading
    axis. ``reverse`` walks xs from the end (ys keep xs's order); ``unroll`` is a hint."""
    init_leaves, init_def = _flatten(_map_leaves(_to_tensor, init))
    x_leaves, x_def = _flatten(_map_leaves(_to_tensor, xs))
    if length is None:
        if not x_leaves:
            raise ValueError("scan: give xs or length.")
        length = backend.core.shape(x_leaves[0])[0]
    y_def = []

    def flat_f(carry_leaves, x_leaf_list):
        carry = _unflatten(init_def, carry_leaves)
        x = _unflatten(x_def, x_leaf_list) if x_leaves else None
        new_carry, y = f(carry, x)
        new_leaves, new_def = _flatten(_map_leaves(_to_tensor, new_carry))
        if new_def != init_def:
            raise ValueError("scan: f must return a carry with the structure of init.")
        y_leaves, treedef = _flatten(_map_leaves(_to_tensor, y))
        y_def[:] = [treedef]
        return list(new_leaves), list(y_leaves)

    carry, ys = backend.core.scan(flat_f, list(init_leaves), list(x_leaves), length,
                                  bool(reverse), int(unroll))
    return _unflatten(init_def, carry), _unflatten(y_def[0], ys)


def _map_rule(f, xs):
    return _scan_rule(lambda c, x: (c, f(x)), (), xs)[1]


@op(_map_rule)
def map(f, xs):  # noqa: A001 - the Keras name
    """Stack ``f(x)`` over the leading axis of ``xs`` (a pytree)."""
    return scan(lambda carry, x: (carry, f(x)), (), xs)[1]


def _switch_rule(index, branches, *operands):
    return branches[0](*operands)


@op(_switch_rule)
def switch(index, branches, *operands):
    """``branches[index](*operands)``, with index clamped to the valid range."""
    if isinstance(index, int):
        return branches[min(max(index, 0), len(branches) - 1)](*operands)
    return backend.core.switch(index, branches, *operands)


def _slice_rule(inputs, start_indices, shape):
    return rules.symbolic(tuple(shape), rules.concrete_dtype(inputs))


def _starts(start_indices):
    if isinstance(start_indices, (list, tuple)):
        return [s if isinstance(s, int) else backend.core.cast(s, "int32") for s in start_indices]
    return backend.core.cast(start_indices, "int32")


@op(_slice_rule)
def slice(inputs, start_indices, shape):  # noqa: A001 - the Keras name
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices`` (ints or
    tensors, so the start may be dynamic under jit). Starts are clamped so the block fits
    (as in jax.lax.dynamic_slice)."""
    return backend.core.dynamic_slice(_to_tensor(inputs), _starts(start_indices),
                              tuple(int(s) for s in shape))


def _slice_update_rule(inputs, start_indices, updates, in_place=False):
    return _symbolic_like(inputs)


@op(_slice_update_rule)
def slice_update(inputs, start_indices, updates, in_place=False):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (cast to the
    inputs' dtype). Starts are clamped so the block fits. Used for KV caches.

    Out of place by default. ``in_place=True`` donates ``inputs``, as jax.jit's
    donate_argnums does: eager backends (torch, NumPy) may then write into it and return it
    (a key/value cache step copies nothing), so use only the result afterwards; compiled
    backends update in place inside loops anyway."""
    inputs = _to_tensor(inputs)
    updates = backend.core.cast(updates, backend.core.dtype_of(inputs))
    return backend.core.dynamic_update_slice(inputs, _starts(start_indices), updates,
                                             in_place=bool(in_place))


@op(rules.elementwise_unary)
def stop_gradient(x):
    """``x``, with no gradient flowing back through it."""
    return backend.core.stop_gradient(_to_tensor(x))
