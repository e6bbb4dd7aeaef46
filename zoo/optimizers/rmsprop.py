"""RMSprop (optionally centered, with momentum).

    v <- rho * v + (1 - rho) * g^2
    a <- rho * a + (1 - rho) * g                     (centered)
    step = lr * g / sqrt(v - a^2 + epsilon)           (v + epsilon when not centered)
    m <- momentum * m + step; w <- w - m              (momentum > 0; else w <- w - step)
"""
from zoo import ops
from zoo.optimizers.base import Optimizer
from zoo.saving import serialization


@serialization.register_builtin
class RMSprop(Optimizer):
    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]
        self.momentums, self.average_gradients = [], []
        if self.momentum > 0:
            self.momentums = [self.add_variable_from_reference(v, "momentum") for v in variables]
        if self.centered:
            self.average_gradients = [self.add_variable_from_reference(v, "average_gradient")
                                      for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        rho = self.rho
        velocity = self.velocities[index]
        v = ops.add(ops.multiply(velocity.value, rho),
                    ops.multiply(ops.square(gradient), 1.0 - rho))
        velocity.assign(v)
        if self.centered:
            average = self.average_gradients[index]
            a = ops.add(ops.multiply(average.value, rho), ops.multiply(gradient, 1.0 - rho))
            average.assign(a)
            v = ops.subtract(v, ops.square(a))
        step = ops.divide(ops.multiply(gradient, learning_rate),
                          ops.sqrt(ops.add(v, self.epsilon)))
        if self.momentum > 0:
            momentum = self.momentums[index]
            step = ops.add(ops.multiply(momentum.value, self.momentum), step)
            momentum.assign(step)
        variable.assign(ops.subtract(variable.value, step))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
