"""JAX backend: layers are plain Python objects; state flows through stateless_call."""


class BackendLayer:
    def _backend_init(self):
        pass

    def _track_sublayer(self, name, layer):
        pass

    def _track_backend_variable(self, variable):
        pass
