"""Adafactor (Shazeer & Stern, 2018) with Keras 3 semantics.

With t the 1-based update count and G = g^2 + epsilon_1:

    rho = min(lr, 1 / sqrt(t));  alpha = max(epsilon_2, rms(w)) * rho
    beta = 1 - t ** beta_2_decay
    rank >= 2 (factored): r <- beta r + (1 - beta) mean(G, -1)     shape w.shape[:-1]
                          c <- beta c + (1 - beta) mean(G, -2)     shape w.shape[:-2] + [n]
                          v  = (r / mean(r, -1))[..., None] * c[..., None, :]
    rank < 2:             v <- beta v + (1 - beta) G
    u = g / sqrt(v);  w <- w - alpha * u / max(1, rms(u) / clip_threshold)

Every variable gets ``r``, ``c`` and ``v`` slots (scalar placeholders where unused), so the
state layout is fixed.
"""
from zoo import ops
from zoo.optimizers.base import Optimizer
from zoo.saving import serialization


def _rms(x):
    return ops.sqrt(ops.mean(ops.square(x)))


@serialization.register_builtin
class Adafactor(Optimizer):
    _default_name = "adafactor"

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._r, self._c, self._v = [], [], []
        for var in variables:
            factored = len(var.shape) >= 2
            shape = tuple(var.shape)
            self._r.append(self.add_variable_from_reference(
                var, "adafactor_r", shape=shape[:-1] if factored else ()))
            self._c.append(self.add_variable_from_reference(
                var, "adafactor_c", shape=shape[:-2] + shape[-1:] if factored else ()))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        # scalar coefficients in float32, then cast (float16 cannot count steps far)
        t = ops.cast(ops.add(self._update_count(), 1), "float32")
        rho = ops.minimum(ops.cast(learning_rate, "float32"), ops.divide(1.0, ops.sqrt(t)))
        rms_w = _rms(ops.cast(variable.value, "float32"))
        alpha = ops.cast(ops.multiply(ops.maximum(rms_w, self.epsilon_2), rho), dtype)
        keep = ops.power(t, float(self.beta_2_decay))  # 1 - beta_2(t)
        beta, keep = ops.cast(ops.subtract(1.0, keep), dtype), ops.cast(keep, dtype)
        g2 = ops.add(ops.square(gradient), self.epsilon_1)

        def decay(old, new):
            return ops.add(ops.multiply(beta, old), ops.multiply(keep, new))

        r_var, c_var, v_var = self._r[index], self._c[index], self._v[index]
        if len(variable.shape) >= 2:
            r = decay(r_var.value, ops.mean(g2, axis=-1))
            c = decay(c_var.value, ops.mean(g2, axis=-2))
            r_var.assign(r)
            c_var.assign(c)
            row = ops.divide(r, ops.mean(r, axis=-1, keepdims=True))
            v = ops.multiply(ops.expand_dims(row, -1), ops.expand_dims(c, -2))
        else:
            v = decay(v_var.value, g2)
        v_var.assign(v)
        u = ops.divide(gradient, ops.sqrt(v))
        u = ops.divide(u, ops.maximum(ops.divide(_rms(u), self.clip_threshold), 1.0))
        variable.assign(ops.subtract(variable.value, ops.multiply(alpha, u)))

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}
