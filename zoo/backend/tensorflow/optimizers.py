"""Optimizer updates: the generic zoo.ops update is used (see zoo/backend/torch/optimizers.py
for why torch has multi-tensor ones), except Adam, which runs as TensorFlow's own fused
kernel (one ResourceApplyAdam per variable instead of ~10 graph ops)."""
import tensorflow as tf

SUPPORTS_MULTI_TENSOR = False


def adam_update(variables, grads, momentums, velocities, alpha, beta_1, beta_2, epsilon):
    return False


def sgd_update(variables, grads, momentums, learning_rate, momentum, nesterov):
    return False


FUSED_ADAM = True  # fused_adam below does the update


def fused_adam(variables, grads, momentums, velocities, learning_rate, step, beta_1, beta_2,
               epsilon):
    """Keras' Adam rule (bias-corrected rate, epsilon outside the square root) with TF's
    kernel; ``step`` is the 1-based update count (a tensor, so it runs in tf.function)."""
    step = tf.cast(step, tf.float32)
    beta_1_power = tf.pow(tf.constant(beta_1, tf.float32), step)
    beta_2_power = tf.pow(tf.constant(beta_2, tf.float32), step)
    learning_rate = tf.cast(learning_rate, tf.float32)
    for variable, grad, m, v in zip(variables, grads, momentums, velocities):
        tf.raw_ops.ResourceApplyAdam(
            var=variable.tf_variable.handle, m=m.tf_variable.handle, v=v.tf_variable.handle,
            beta1_power=beta_1_power, beta2_power=beta_2_power, lr=learning_rate,
            beta1=tf.constant(beta_1, tf.float32), beta2=tf.constant(beta_2, tf.float32),
            epsilon=tf.constant(epsilon, tf.float32), grad=tf.convert_to_tensor(grad))
    return True
