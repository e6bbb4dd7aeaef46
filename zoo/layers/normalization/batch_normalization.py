"""BatchNormalization: normalize with batch statistics in training, moving ones in inference.

In training (``training=True`` and the layer trainable) the mean and variance over every
axis but ``axis`` normalize the batch, and ``moving_mean``/``moving_variance`` (non-trainable)
move towards them by ``1 - momentum`` through ``Variable.assign``, so inside
``stateless_call`` the new statistics come back as non-trainable values. Half-precision
inputs are normalized in float32.
"""
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers import initializers
from zoo.layers.layer import Layer

_HALF = ("float16", "bfloat16")


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} is out of "
                             f"range for inputs of shape {tuple(input_shape)}.")
        axis = self.axis % ndim
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"BatchNormalization '{self.name}': the normalized axis must be "
                             f"known, got shape {tuple(input_shape)}.")
        shape = (channels,)
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         autocast=False)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        autocast=False)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer,
                                           name="moving_mean", trainable=False, autocast=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               name="moving_variance", trainable=False,
                                               autocast=False)
        self._reduction_axes = tuple(i for i in range(ndim) if i != axis)
        # parameters broadcast against the inputs: (C,) when the axis is last
        self._param_shape = None if axis == ndim - 1 else \
            tuple(channels if i == axis else 1 for i in range(ndim))
        self.built = True

    def _broadcast(self, p):
        return p if self._param_shape is None else ops.reshape(p, self._param_shape)

    def call(self, inputs, training=None, mask=None):
        dtype = ops.dtype(inputs)
        x = ops.cast(inputs, "float32") if dtype in _HALF else inputs
        if training and self.trainable and not isinstance(x, SymbolicTensor):
            mean, variance = ops.moments(x, self._reduction_axes)
            self._update_moving(mean, variance)  # (a symbolic call has no batch to learn from)
        else:
            mean, variance = self.moving_mean.value, self.moving_variance.value
        # y = (x - mean) * inv + beta, with inv = gamma / sqrt(var + eps)
        inv = ops.rsqrt(ops.add(variance, self.epsilon))
        if self.gamma is not None:
            inv = ops.multiply(inv, self.gamma.value)
        shift = ops.negative(ops.multiply(mean, inv))
        if self.beta is not None:
            shift = ops.add(shift, self.beta.value)
        y = ops.add(ops.multiply(x, self._broadcast(inv)), self._broadcast(shift))
        return ops.cast(y, dtype) if dtype in _HALF else y

    def _update_moving(self, mean, variance):
        m = self.momentum
        mean, variance = ops.stop_gradient(mean), ops.stop_gradient(variance)
        self.moving_mean.assign(ops.add(ops.multiply(self.moving_mean.value, m),
                                        ops.multiply(mean, 1.0 - m)))
        self.moving_variance.assign(ops.add(ops.multiply(self.moving_variance.value, m),
                                            ops.multiply(variance, 1.0 - m)))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer":
                    initializers.serialize(self.moving_variance_initializer)}
