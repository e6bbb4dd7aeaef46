"""SGD with optional (Nesterov) momentum.

    m <- momentum * m - lr * g
    w <- w + m                           (plain momentum)
    w <- w + momentum * m - lr * g       (nesterov)
    w <- w - lr * g                      (momentum == 0: no slot is created)
"""
from zoo import backend, ops
from zoo.optimizers.base import Optimizer
from zoo.saving import serialization


@serialization.register_builtin
class SGD(Optimizer):
    _default_name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}.")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum:
            self.momentums = [self.add_variable_from_reference(v, "momentum") for v in variables]

    def _update_variables(self, grads, variables, learning_rate):
        if self._multi_tensor_ok(variables):
            lr, _ = self._host_scalars(learning_rate)
            momentums = [self.momentums[self._get_variable_index(v)] for v in variables] \
                if self.momentum else []
            if backend.optimizers.sgd_update(variables, grads, momentums, lr, self.momentum,
                                             self.nesterov):
                return
        super()._update_variables(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        step = ops.multiply(gradient, learning_rate)
        if not self.momentum:
            variable.assign(ops.subtract(variable.value, step))
            return
        m = self.momentums[self._get_variable_index(variable)]
        new_m = ops.subtract(ops.multiply(m.value, self.momentum), step)
        m.assign(new_m)
        if self.nesterov:
            delta = ops.subtract(ops.multiply(new_m, self.momentum), step)
        else:
            delta = new_m
        variable.assign(ops.add(variable.value, delta))

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
