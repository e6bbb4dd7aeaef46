"""TensorFlow implementations of the NumPy-named ops (inputs already promoted by zoo.ops)."""
import tensorflow as tf

from zoo.backend.tensorflow.core import convert_to_tensor


def add(x1, x2):
    return tf.add(x1, x2)


def subtract(x1, x2):
    return tf.subtract(x1, x2)


def multiply(x1, x2):
    return tf.multiply(x1, x2)


def divide(x1, x2):
    return tf.math.truediv(x1, x2)


def matmul(x1, x2):
    return tf.linalg.matmul(x1, x2) if x1.shape.rank == x2.shape.rank and x1.shape.rank >= 2 \
        else tf.experimental.numpy.matmul(x1, x2)


def reshape(x, newshape):
    return tf.reshape(convert_to_tensor(x), newshape)
