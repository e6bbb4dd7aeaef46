"""NumPy backend: layers need no framework base class."""


class BackendLayer:
    def _backend_init(self):
        pass

    def _track_sublayer(self, name, layer):
        pass

    def _track_backend_variable(self, variable):
        pass
