"""Gradient clipping: per-variable norm, global norm, value. Norms are taken in float32."""
from zoo import ops


def _norm_sq(g):
    return ops.sum(ops.square(ops.cast(g, "float32")))


def _factor(norm_sq, clip, dtype):
    """``clip / max(norm, clip)``: 1 when the norm is within ``clip``, never 0/0."""
    norm = ops.sqrt(norm_sq)
    return ops.cast(ops.divide(float(clip), ops.maximum(norm, float(clip))), dtype)


def clip_by_norm(grads, clipnorm):
    return [ops.multiply(g, _factor(_norm_sq(g), clipnorm, ops.dtype(g))) for g in grads]


def clip_by_global_norm(grads, clipnorm):
    total = _norm_sq(grads[0])
    for g in grads[1:]:
        total = ops.add(total, _norm_sq(g))
    return [ops.multiply(g, _factor(total, clipnorm, ops.dtype(g))) for g in grads]


def clip_gradients(grads, clipnorm=None, global_clipnorm=None, clipvalue=None):
    """At most one of the three is set (the Optimizer checks)."""
    if clipnorm is not None:
        return clip_by_norm(grads, clipnorm)
    if global_clipnorm is not None:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue is not None:
        return [ops.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads
