"""LayerNormalization: normalize each example over ``axis`` (the features), then scale and shift.

gamma and beta are read in float32 (no autocast) and half-precision inputs are normalized
in float32; the output has the layer's compute dtype.
"""
from zoo import ops
from zoo.layers import initializers
from zoo.layers.layer import Layer


def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


class LayerNormalization(Layer):
    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.axis = _axes(axis)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"LayerNormalization '{self.name}': axis {a} is out of range "
                                 f"for inputs of shape {tuple(input_shape)}.")
        axes = tuple(sorted(a % ndim for a in axes))
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(f"LayerNormalization '{self.name}': normalized dimensions must "
                             f"be known, got shape {tuple(input_shape)}.")
        self._norm_axes = axes
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         autocast=False)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        autocast=False)
        self._param_shape = None
        if axes != tuple(range(ndim - len(axes), ndim)):  # params broadcast over other axes
            self._param_shape = tuple(input_shape[a] if a in axes else 1 for a in range(ndim))
        self.built = True

    def call(self, inputs):
        gamma = None if self.gamma is None else self.gamma.value
        if not self.rms_scaling:
            beta = None if self.beta is None else self.beta.value
            return ops.layer_norm(inputs, gamma, beta, axis=self._norm_axes,
                                  epsilon=self.epsilon)
        dtype = ops.dtype(inputs)
        x = ops.cast(inputs, "float32") if dtype in ("float16", "bfloat16") else inputs
        x = ops.multiply(x, ops.rsqrt(ops.add(
            ops.mean(ops.square(x), axis=self._norm_axes, keepdims=True), self.epsilon)))
        if gamma is not None:
            if self._param_shape is not None:
                gamma = ops.reshape(gamma, self._param_shape)
            x = ops.multiply(x, ops.cast(gamma, ops.dtype(x)))
        return ops.cast(x, dtype)

    def get_config(self):
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**super().get_config(), "axis": axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
