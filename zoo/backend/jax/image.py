"""Image ops for the jax backend (4D images; conventions in zoo.ops.image.resize)."""
import jax


def resize(images, size, interpolation, antialias, data_format):
    if data_format == "channels_last":
        shape = (images.shape[0], *size, images.shape[-1])
    else:
        shape = (*images.shape[:2], *size)
    method = "linear" if interpolation == "bilinear" else "nearest"
    return jax.image.resize(images, shape, method=method, antialias=antialias)
