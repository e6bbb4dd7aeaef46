"""Image ops. Images are (height, width, channels) or (batch, height, width, channels)."""
from zoo import backend
from zoo.backend.common import dtypes
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = ["resize"]

_METHODS = ("bilinear", "nearest")


def _check(images, size, interpolation, data_format):
    if interpolation not in _METHODS:
        raise ValueError(f"resize: interpolation must be one of {_METHODS}, got {interpolation!r}.")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"resize: unknown data_format {data_format!r}.")
    ndim = len(rules.shape_of(images))
    if ndim not in (3, 4):
        raise ValueError(f"resize: images must be 3D or 4D, got rank {ndim}.")
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width), got {size}.")
    return size, ndim


def _dtype(images, interpolation):
    dtype = rules.concrete_dtype(images)
    if interpolation == "bilinear" and not dtypes.is_float(dtype):
        return dtypes.config.floatx()
    return dtype


def _resize_rule(images, size, interpolation="bilinear", antialias=False,
                 data_format="channels_last"):
    size, ndim = _check(images, size, interpolation, data_format)
    shape = list(rules.shape_of(images))
    h = ndim - 3 if data_format == "channels_last" else ndim - 2
    shape[h:h + 2] = size
    return rules.symbolic(tuple(shape), _dtype(images, interpolation))


@op(_resize_rule)
def resize(images, size, interpolation="bilinear", antialias=False,
           data_format="channels_last"):
    """Resize the spatial dims to ``size = (height, width)``.

    Conventions (identical on every backend):
    * "bilinear": half-pixel centers (``align_corners=False``): output pixel ``i`` samples
      source coordinate ``(i + 0.5) * in / out - 0.5``, clamped to the image, as in
      ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``,
      ``jax.image.resize(method="linear")`` and ``tf.image.resize``. With
      ``antialias=True`` a downscale widens the triangle filter by the scale factor (as
      jax.image.resize / tf.image.resize with antialias). Integer images become floatx.
    * "nearest": output pixel ``i`` takes source pixel ``floor((i + 0.5) * in / out)``
      (torch ``mode="nearest-exact"``, jax.image.resize, tf.image.resize). For integer
      upscale factors this equals torch's ``mode="nearest"`` (``nn.Upsample(scale_factor=2)``).
      The dtype is kept.
    """
    size, ndim = _check(images, size, interpolation, data_format)
    images = backend.core.convert_to_tensor(images)
    dtype = _dtype(images, interpolation)
    images = backend.core.cast(images, dtype)
    if ndim == 3:
        images = backend.numpy.reshape(images, (1,) + tuple(backend.core.shape(images)))
    out = backend.image.resize(images, size, interpolation, bool(antialias), data_format)
    if ndim == 3:
        out = backend.numpy.reshape(out, tuple(backend.core.shape(out))[1:])
    return out
