"""Port a checkpoint's tensors into zoo variables: the one helper every converter uses.

    porter = Porter(reader, "BERT checkpoint", prefix=find_prefix(reader, ("bert.", ""),
                    "embeddings.word_embeddings.weight"), aliases=LAYER_NORM_GAMMA_BETA,
                    variables=backbone.variable_paths())
    porter.port("token_embedding/embeddings", "embeddings.word_embeddings.weight")
    porter.port("pooled_dense/kernel", "pooler.dense.weight", dense_kernel)
    porter.apply()     # (or leave a ``with Porter(...) as porter:`` block)

``port`` only records. ``apply`` first checks everything: every key is found (under the
prefix, or by a legacy alias) and every tensor, transformed, has its variable's shape,
judged from the tensors' shapes without reading them. Only when all of it holds does it
assign, one tensor in memory at a time, cast to each variable's dtype. Errors list every
problem: a missing key (KeyError) names the key, what was tried and the checkpoint; a
shape mismatch (ValueError) names the variable, the key and both shapes.

``reader`` is mapping-like (``keys()``, ``reader[key]``): a CheckpointReader, whose
``shape(key)`` reads no data, or a plain dict of NumPy arrays.

Transforms (``transform(array, variable_shape) -> array``, with ``result_shape``):
    dense_kernel         torch Linear (out, in) -> (in, out), the out axis split into the
                         variable's trailing axes (query/key/value: (in, heads, head_dim))
    heads_output_kernel  (out, in) -> (in, out), the in axis split into (heads, head_dim)
    reshape              to the variable's shape (a bias (heads * head_dim,) -> (heads, ...))
    transpose            any axes reversed, as is
"""
import math
import re

import numpy as np

LAYER_NORM_GAMMA_BETA = ((r"(\.LayerNorm)\.weight$", r"\1.gamma"),
                         (r"(\.LayerNorm)\.bias$", r"\1.beta"))
_SHOWN = 8  # problems listed in one error


class MissingWeightError(KeyError):
    def __str__(self):  # KeyError would quote the whole message
        return str(self.args[0])


# -- transforms ---------------------------------------------------------------------------------

class Transform:
    """``fn(array, variable_shape)`` plus the rule for the shape it returns (or None when
    the source shape cannot become ``variable_shape``)."""

    def __init__(self, name, fn, shape_rule):
        self.name, self.fn, self.shape_rule = name, fn, shape_rule

    def __call__(self, array, shape):
        return self.fn(array, tuple(shape))

    def result_shape(self, source_shape, shape):
        return self.shape_rule(tuple(source_shape), tuple(shape))

    def __repr__(self):
        return self.name


def _split(axes, shape, keep_first):
    """``shape`` when ``axes`` become it by splitting/merging all axes but the first (or
    last) one, else ``axes`` unchanged."""
    if len(axes) == 0 or len(shape) == 0:
        return axes
    if keep_first and axes[0] == shape[0] and math.prod(axes[1:]) == math.prod(shape[1:]):
        return shape
    if not keep_first and axes[-1] == shape[-1] and \
            math.prod(axes[:-1]) == math.prod(shape[:-1]):
        return shape
    return axes


dense_kernel = Transform(
    "dense_kernel", lambda a, s: np.ascontiguousarray(a.T).reshape(s),
    lambda src, s: _split(src[::-1], s, keep_first=True))
heads_output_kernel = Transform(
    "heads_output_kernel", lambda a, s: np.ascontiguousarray(a.T.reshape(s)),
    lambda src, s: _split(src[::-1], s, keep_first=False))
reshape = Transform(
    "reshape", lambda a, s: a.reshape(s),
    lambda src, s: s if math.prod(src) == math.prod(s) else src)
transpose = Transform(
    "transpose", lambda a, s: np.ascontiguousarray(a.T), lambda src, s: src[::-1])


# -- the porter ---------------------------------------------------------------------------------

def find_prefix(reader, prefixes, probe, what="checkpoint"):
    """The first of ``prefixes`` under which ``probe`` is a key of ``reader``."""
    keys = set(reader.keys())
    for prefix in prefixes:
        if prefix + probe in keys:
            return prefix
    shown = [p for p in prefixes if p]
    raise MissingWeightError(f"{what}: no {probe} under any of the prefixes {shown}"
                             f"{' (or none)' if '' in prefixes else ''}; is this the right "
                             f"kind of checkpoint?")


def _label(reader, what):
    path = getattr(reader, "path", None)
    return f"{what} {path!r}" if path else what


class Porter:
    """Collects ``port`` calls; ``apply`` checks them all, then assigns them all."""

    def __init__(self, reader, what="checkpoint", prefix="", aliases=(), variables=None):
        self.reader = reader
        self.what = what
        self.label = _label(reader, what)
        self.prefix = prefix
        self.aliases = tuple(aliases)
        self.variables = variables
        self.keys = set(reader.keys())
        self._pending = []

    # -- looking keys up ------------------------------------------------------------------
    def candidates(self, key, prefixed=True, alternatives=()):
        """The keys tried for ``key``, in order: each name with the prefix, then its legacy
        aliases."""
        names = [key, *alternatives]
        out = []
        for name in names:
            full = self.prefix + name if prefixed else name
            out.append(full)
            out.extend(re.sub(p, r, full) for p, r in self.aliases if re.search(p, full))
        return list(dict.fromkeys(out))

    def find(self, key, prefixed=True, alternatives=()):
        """The checkpoint key found for ``key``, or None."""
        return next((k for k in self.candidates(key, prefixed, alternatives)
                     if k in self.keys), None)

    def has(self, key, prefixed=True):
        return self.find(key, prefixed) is not None

    def read(self, key, prefixed=True):
        """The array of ``key`` (found as ``port`` finds it); MissingWeightError if absent."""
        found = self.find(key, prefixed)
        if found is None:
            raise MissingWeightError(f"{self.label}: no weight {key!r} (tried "
                                     f"{self.candidates(key, prefixed)}).")
        return np.asarray(self.reader[found])

    def shape_of(self, key):
        shape = getattr(self.reader, "shape", None)
        return tuple(shape(key)) if callable(shape) else tuple(np.shape(self.reader[key]))

    # -- porting ----------------------------------------------------------------------------
    def port(self, variable, key, transform=None, prefixed=True, alternatives=()):
        """Record: ``variable`` (a Variable, or a path of ``variables``) gets tensor ``key``
        (under the prefix unless ``prefixed=False``; ``alternatives`` are other names to
        try), through ``transform``. Nothing is read or assigned until ``apply``."""
        self._pending.append((variable, key, transform, prefixed, tuple(alternatives)))

    def apply(self):
        """Check every recorded port, then (only if all hold) assign them all."""
        pending, self._pending = self._pending, []
        planned, missing, wrong = [], [], []
        for variable, key, transform, prefixed, alternatives in pending:
            path, variable = self._variable(variable, key)
            found = self.find(key, prefixed, alternatives)
            if found is None:
                tried = self.candidates(key, prefixed, alternatives)
                missing.append(f"no weight {key!r} (tried {tried}) for zoo variable {path!r}")
                continue
            source = self.shape_of(found)
            target = tuple(variable.shape)
            result = source if transform is None else transform.result_shape(source, target)
            if tuple(result) != target:
                through = f" ({transform.name}: {tuple(result)})" if transform else ""
                wrong.append(f"{found!r} has shape {source}{through} but zoo variable "
                             f"{path!r} has shape {target}")
                continue
            planned.append((variable, found, transform))
        if missing:
            raise MissingWeightError(self._problems(missing))
        if wrong:
            raise ValueError(self._problems(wrong))
        for variable, found, transform in planned:
            self._assign(variable, found, transform)

    def _variable(self, variable, key):
        if not isinstance(variable, str):
            return getattr(variable, "path", None) or getattr(variable, "name", "?"), variable
        if self.variables is None or variable not in self.variables:
            raise KeyError(f"{self.what} converter: the model has no variable {variable!r} "
                           f"(for {key!r}).")
        return variable, self.variables[variable]

    def _problems(self, problems):
        more = len(problems) - _SHOWN
        listed = "; ".join(problems[:_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        return f"{self.label}: {listed}. Nothing was assigned."

    def _assign(self, variable, key, transform):
        from zoo.backend.common import dtypes

        array = np.asarray(self.reader[key])
        if transform is not None:
            array = transform(array, variable.shape)
        target = dtypes.to_numpy_dtype(variable.dtype)
        variable.assign(array if array.dtype == target else array.astype(target))

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.apply()
        return False
