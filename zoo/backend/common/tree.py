"""A tiny pure-Python pytree: flatten / unflatten nested lists, tuples, namedtuples and dicts.

``None`` is an empty node (no leaves), like in JAX; anything that is not a list, tuple or
dict is a leaf, and ``is_leaf(x)`` may stop the recursion early (a node it accepts is a
leaf). Dicts are walked in sorted key order (insertion order if the keys do not sort), as
in JAX; two trees have the same structure iff their treedefs compare equal.

    leaves, treedef = flatten({"a": (1, None), "b": [2, 3]})   # [1, 2, 3]
    unflatten(treedef, [x * 10 for x in leaves])              # {"a": (10, None), "b": [20, 30]}
"""

_LEAF = "*"


def is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(tree, is_leaf=None):
    """``(leaves, treedef)``: the leaves in depth-first order and a hashable structure."""
    leaves = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def _flatten(tree, leaves, is_leaf):
    if is_leaf is not None and is_leaf(tree):
        leaves.append(tree)
        return _LEAF
    if tree is None:
        return None
    if isinstance(tree, (list, tuple)):
        kind = type(tree) if is_namedtuple(tree) else (list if isinstance(tree, list) else tuple)
        return (kind, tuple(_flatten(item, leaves, is_leaf) for item in tree))
    if isinstance(tree, dict):
        try:
            keys = tuple(sorted(tree))
        except TypeError:
            keys = tuple(tree)
        return (dict, keys, tuple(_flatten(tree[k], leaves, is_leaf) for k in keys))
    leaves.append(tree)
    return _LEAF


def unflatten(treedef, leaves):
    """Rebuild a tree of ``treedef``'s structure from ``leaves`` (all of them must be used)."""
    iterator = iter(leaves)
    tree = _unflatten(treedef, iterator)
    if next(iterator, _LEAF) is not _LEAF:
        raise ValueError("unflatten: more leaves than the structure has.")
    return tree


def _unflatten(treedef, leaves):
    if treedef is None:
        return None
    if treedef == _LEAF:
        try:
            return next(leaves)
        except StopIteration:
            raise ValueError("unflatten: fewer leaves than the structure has.") from None
    if treedef[0] is dict:
        _, keys, children = treedef
        return {k: _unflatten(child, leaves) for k, child in zip(keys, children)}
    kind, children = treedef
    items = [_unflatten(child, leaves) for child in children]
    if kind is list:
        return items
    if kind is tuple:
        return tuple(items)
    return kind(*items)  # a namedtuple


def num_leaves(treedef):
    if treedef is None:
        return 0
    if treedef == _LEAF:
        return 1
    return sum(num_leaves(child) for child in treedef[-1])


def map_structure(fn, *trees, is_leaf=None):
    """``fn`` applied leaf-wise over trees of one structure; returns a tree of that structure."""
    flat = [flatten(t, is_leaf) for t in trees]
    treedef = flat[0][1]
    for leaves, other in flat[1:]:
        if other != treedef:
            raise ValueError("map_structure: the trees have different structures.")
    return unflatten(treedef, [fn(*xs) for xs in zip(*(leaves for leaves, _ in flat))])
