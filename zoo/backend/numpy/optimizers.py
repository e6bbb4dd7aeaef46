"""Multi-tensor optimizer updates: none needed here (the generic zoo.ops update is used;
see zoo/backend/torch/optimizers.py for why torch has them)."""

SUPPORTS_MULTI_TENSOR = False


def adam_update(variables, grads, momentums, velocities, alpha, beta_1, beta_2, epsilon):
    return False


def sgd_update(variables, grads, momentums, learning_rate, momentum, nesterov):
    return False


FUSED_ADAM = False  # Adam uses the paths above (see tensorflow/optimizers.py)


def fused_adam(variables, grads, momentums, velocities, learning_rate, step, beta_1, beta_2,
               epsilon):
    """TensorFlow only (see zoo/backend/tensorflow/optimizers.py)."""
    return False
