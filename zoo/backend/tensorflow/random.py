"""Random ops for the tensorflow backend: stateless ops keyed by a (2,) int32 seed tensor."""
import tensorflow as tf


def _seed(seed):
    return tf.cast(seed, tf.int32)


def is_tracer(x):
    return False


def set_framework_seed(seed):
    tf.random.set_seed(seed)


def _shape(shape):
    if any(tf.is_tensor(d) for d in shape):
        return tf.stack([tf.cast(d, tf.int32) for d in shape])
    return shape


def normal(shape, mean, stddev, dtype, seed):
    return tf.random.stateless_normal(_shape(shape), _seed(seed), mean, stddev, dtype)


def uniform(shape, minval, maxval, dtype, seed):
    return tf.random.stateless_uniform(_shape(shape), _seed(seed), minval, maxval, dtype)


def truncated_normal(shape, mean, stddev, dtype, seed):
    return tf.random.stateless_truncated_normal(_shape(shape), _seed(seed), mean, stddev, dtype)


def randint(shape, minval, maxval, dtype, seed):
    wide = tf.int64 if dtype in ("int64", "uint64", "uint32") else tf.int32
    out = tf.random.stateless_uniform(_shape(shape), _seed(seed), minval, maxval, wide)
    return tf.cast(out, dtype)


def categorical(logits, num_samples, dtype, seed):
    out = tf.random.stateless_categorical(logits, num_samples, _seed(seed), dtype=tf.int64)
    return tf.cast(out, dtype)


def dropout(inputs, rate, noise_shape, seed):
    noise = tf.random.stateless_uniform(_shape(noise_shape), _seed(seed), dtype=tf.float32)
    return tf.where(noise >= rate, inputs / tf.cast(1 - rate, inputs.dtype),
                    tf.zeros((), inputs.dtype))


def shuffle(x, axis, seed):
    keys = tf.random.stateless_uniform(tf.shape(x)[axis:axis + 1], _seed(seed))
    return tf.gather(x, tf.argsort(keys), axis=axis)
