"""LayoutMap: which layout each variable gets, by regexes over variable paths."""
import re

from zoo.distribution.mesh import TensorLayout


class LayoutMap:
    """``{regex: layout}`` over variable paths (``transformer_layer_0/.../query/kernel``).

    A key matches a path in full (``re.fullmatch``); ``.*`` at either end widens it. A
    value is a ``TensorLayout`` or a tuple of mesh axis names / None. A path no key matches
    is replicated; a path two keys match is an error naming both.
    """

    def __init__(self, device_mesh, batch_dim_name=None):
        self.device_mesh = device_mesh
        self.batch_dim_name = batch_dim_name
        self._layouts = {}
        self._patterns = {}

    def __setitem__(self, key, layout):
        if not isinstance(key, str):
            raise TypeError(f"LayoutMap keys are regexes over variable paths, not {key!r}.")
        try:
            pattern = re.compile(key)
        except re.error as error:
            raise ValueError(f"LayoutMap key {key!r} is not a valid regex: {error}") from None
        if not isinstance(layout, TensorLayout):
            if not isinstance(layout, (tuple, list)):
                raise TypeError(f"LayoutMap[{key!r}]: a TensorLayout or a tuple of mesh axis "
                                f"names, not {layout!r}.")
            layout = TensorLayout(layout)
        self._layouts[key] = layout.with_mesh(self.device_mesh)
        self._patterns[key] = pattern

    def __getitem__(self, path):
        """The layout for variable ``path``, or None (replicated)."""
        found = [key for key, pattern in self._patterns.items() if pattern.fullmatch(path)]
        if len(found) > 1:
            raise ValueError(f"Variable {path!r} matches more than one LayoutMap key: "
                             f"{found[0]!r} and {found[1]!r}. Make the keys exclusive.")
        return self._layouts[found[0]] if found else None

    def __delitem__(self, key):
        del self._layouts[key], self._patterns[key]

    def __contains__(self, key):
        return key in self._layouts

    def __iter__(self):
        return iter(self._layouts)

    def __len__(self):
        return len(self._layouts)

    def keys(self):
        return self._layouts.keys()

    def items(self):
        return self._layouts.items()
