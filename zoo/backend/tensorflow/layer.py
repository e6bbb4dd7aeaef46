"""TensorFlow backend: a layer is a tf.Module-like object whose variables tf sees.

``tf.GradientTape`` watches the underlying ``tf.Variable`` objects, which
``layer.trainable_variables`` returns through ``Variable.value``.
"""


class BackendLayer:
    def _backend_init(self):
        pass

    def _track_sublayer(self, name, layer):
        pass

    def _track_backend_variable(self, variable):
        pass
