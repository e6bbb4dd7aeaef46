"""Adam and AdamW.

With t the 1-based update count:

    m <- m + (1 - beta_1) * (g - m)
    v <- v + (1 - beta_2) * (g^2 - v)
    v_hat <- max(v_hat, v)                                   (amsgrad; used instead of v)
    w <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

AdamW is Adam with decoupled weight decay ``w <- w - lr * weight_decay * w`` applied
before the step (the base optimizer's ``weight_decay``, default 0.004 here); use
``exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "layer_norm"])`` to spare
biases and normalization parameters.
"""
from zoo import backend, ops
from zoo.backend.common.stateless_scope import get_stateless_scope
from zoo.optimizers.base import Optimizer
from zoo.saving import serialization


@serialization.register_builtin
class Adam(Optimizer):
    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [self.add_variable_from_reference(v, "momentum") for v in variables]
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]
        self.velocity_hats = []
        if self.amsgrad:
            self.velocity_hats = [self.add_variable_from_reference(v, "velocity_hat")
                                  for v in variables]

    def _update_variables(self, grads, variables, learning_rate):
        if backend.optimizers.FUSED_ADAM and not self.amsgrad and \
                get_stateless_scope() is None and all(v.dtype == "float32" for v in variables):
            index = [self._get_variable_index(v) for v in variables]
            step = ops.add(self._update_count(), 1)
            if backend.optimizers.fused_adam(
                    variables, grads, [self.momentums[i] for i in index],
                    [self.velocities[i] for i in index], learning_rate, step, self.beta_1,
                    self.beta_2, self.epsilon):
                return
        if not self.amsgrad and self._multi_tensor_ok(variables):
            lr, t = self._host_scalars(learning_rate)
            alpha = lr * (1.0 - self.beta_2 ** t) ** 0.5 / (1.0 - self.beta_1 ** t)
            index = [self._get_variable_index(v) for v in variables]
            if backend.optimizers.adam_update(
                    variables, grads, [self.momentums[i] for i in index],
                    [self.velocities[i] for i in index], alpha, self.beta_1, self.beta_2,
                    self.epsilon):
                return
        super()._update_variables(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        # scalar coefficients in float32 (bfloat16 would round beta_2 ** t to 1)
        t = ops.cast(ops.add(self._update_count(), 1), "float32")
        correction = ops.divide(ops.sqrt(ops.subtract(1.0, ops.power(float(self.beta_2), t))),
                                ops.subtract(1.0, ops.power(float(self.beta_1), t)))
        alpha = ops.cast(ops.multiply(ops.cast(learning_rate, "float32"), correction), dtype)
        m_var, v_var = self.momentums[index], self.velocities[index]
        m = ops.add(m_var.value, ops.multiply(ops.subtract(gradient, m_var.value),
                                              1.0 - self.beta_1))
        v = ops.add(v_var.value, ops.multiply(ops.subtract(ops.square(gradient), v_var.value),
                                              1.0 - self.beta_2))
        m_var.assign(m)
        v_var.assign(v)
        if self.amsgrad:
            v_hat = self.velocity_hats[index]
            v = ops.maximum(v_hat.value, v)
            v_hat.assign(v)
        step = ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        variable.assign(ops.subtract(variable.value, step))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@serialization.register_builtin
class AdamW(Adam):
    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW needs a weight_decay (use Adam for none).")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
