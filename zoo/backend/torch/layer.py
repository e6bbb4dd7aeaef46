"""PyTorch backend: every zoo layer is a torch.nn.Module.

Sublayers register as child modules and each variable's Parameter registers under the
variable's name, so ``parameters()``, ``state_dict()``, ``.to()`` and plain torch training
loops see exactly the zoo variables.
"""
import torch


class BackendLayer(torch.nn.Module):
    def _backend_init(self):
        torch.nn.Module.__init__(self)

    def _track_sublayer(self, name, layer):
        self._modules[name] = layer

    def _track_backend_variable(self, variable):
        self._parameters[variable.name] = variable._value
        if variable._value is None:  # deferred init: registered when it gets storage
            variable.__dict__.setdefault("_torch_owners", []).append(self)

    def forward(self, *args, **kwargs):
        return self.__call__(*args, **kwargs)

    # torch.nn.Module.__call__ would route to forward(); zoo's Layer.__call__ wins instead
    # (it is defined on Layer, which comes first in the MRO).
