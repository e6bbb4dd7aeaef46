"""Image ops for the tensorflow backend (4D images; conventions in zoo.ops.image.resize)."""
import tensorflow as tf


def resize(images, size, interpolation, antialias, data_format):
    x = images if data_format == "channels_last" else tf.transpose(images, [0, 2, 3, 1])
    method = "bilinear" if interpolation == "bilinear" else "nearest"
    out = tf.cast(tf.image.resize(x, size, method=method, antialias=antialias), images.dtype)
    return out if data_format == "channels_last" else tf.transpose(out, [0, 3, 1, 2])
