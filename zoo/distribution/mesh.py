"""Devices, device meshes and tensor layouts: the vocabulary of zoo.distribution."""
import math

import numpy as np

from zoo import backend


def _backend_distribution():
    """The active backend's distribution module; a clear error where there is none."""
    module = getattr(backend, "distribution", None)
    if module is None:
        raise RuntimeError(
            f"zoo.distribution runs on the JAX backend only; the active backend is "
            f"{backend.backend()!r}. Set ZOO_BACKEND=jax to shard a model (other backends "
            f"would silently run on one device, so they refuse instead).")
    return module


def list_devices(device_type=None):
    """Every device of every process, as ``"platform:id"`` strings (e.g. ``"cpu:3"``);
    ``device_type`` ("cpu", "gpu", "tpu") picks one kind."""
    return _backend_distribution().list_devices(device_type)


class DeviceMesh:
    """Devices arranged in a named grid: ``DeviceMesh((2, 4), ("batch", "model"))`` puts 8
    devices in 2 rows (the "batch" axis) of 4 (the "model" axis). ``devices`` defaults to
    ``list_devices()``; strings or backend device objects, as many as the shape holds."""

    def __init__(self, shape, axis_names, devices=None):
        shape = tuple(int(d) for d in shape)
        axis_names = tuple(str(a) for a in axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(f"DeviceMesh: shape {shape} has {len(shape)} axes but axis_names "
                             f"{axis_names} names {len(axis_names)}.")
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"DeviceMesh: axis_names {axis_names} repeat a name.")
        if devices is None:
            devices = list_devices()
        devices = np.asarray(devices, dtype=object).reshape(-1)
        if devices.size != math.prod(shape):
            raise ValueError(f"DeviceMesh: shape {shape} holds {math.prod(shape)} devices, "
                             f"but {devices.size} were given.")
        self.shape = shape
        self.axis_names = axis_names
        self.devices = devices.reshape(shape)
        self._backend_mesh = None

    def axis_size(self, name):
        if name not in self.axis_names:
            raise ValueError(f"Mesh axis {name!r} is not one of {self.axis_names}.")
        return self.shape[self.axis_names.index(name)]

    @property
    def backend_mesh(self):
        """The framework's mesh (``jax.sharding.Mesh``), made once."""
        if self._backend_mesh is None:
            self._backend_mesh = _backend_distribution().make_mesh(self)
        return self._backend_mesh

    def __repr__(self):
        axes = ", ".join(f"{n}={s}" for n, s in zip(self.axis_names, self.shape))
        return f"<DeviceMesh {axes}>"


class TensorLayout:
    """How a tensor is split over a mesh: one entry per tensor dimension, each a mesh axis
    name (the dimension is split over that axis) or None (kept whole). Mesh axes not named
    hold replicas. ``TensorLayout((None, "model"))`` splits a kernel's columns."""

    def __init__(self, axes, device_mesh=None):
        self.axes = tuple(axes)
        for axis in self.axes:
            if axis is not None and not isinstance(axis, str):
                raise ValueError(f"TensorLayout axes {self.axes}: each entry is a mesh axis "
                                 f"name or None, not {axis!r}.")
        named = [a for a in self.axes if a is not None]
        if len(set(named)) != len(named):
            raise ValueError(f"TensorLayout axes {self.axes} use a mesh axis twice.")
        self.device_mesh = device_mesh
        if device_mesh is not None:
            self._check_mesh(device_mesh)

    def _check_mesh(self, mesh):
        for axis in self.axes:
            if axis is not None and axis not in mesh.axis_names:
                raise ValueError(f"TensorLayout axes {self.axes}: {axis!r} is not an axis of "
                                 f"{mesh!r}.")

    def with_mesh(self, mesh):
        return self if self.device_mesh is mesh else TensorLayout(self.axes, mesh)

    def check_shape(self, shape, what):
        """Raise unless every split dimension of ``shape`` divides evenly over the mesh."""
        mesh = self.device_mesh
        if len(self.axes) != len(shape):
            raise ValueError(f"{what} has shape {tuple(shape)} ({len(shape)} dimensions) but "
                             f"its layout {self.axes} has {len(self.axes)} entries.")
        for dim, (size, axis) in enumerate(zip(shape, self.axes)):
            if axis is not None and size % mesh.axis_size(axis):
                raise ValueError(
                    f"{what} has shape {tuple(shape)}: dimension {dim} ({size}) does not "
                    f"divide over mesh axis {axis!r} of {mesh.axis_size(axis)} devices "
                    f"({mesh!r}). Change its layout (e.g. None for that dimension).")

    def __eq__(self, other):
        return isinstance(other, TensorLayout) and self.axes == other.axes \
            and self.device_mesh is other.device_mesh

    def __hash__(self):
        return hash(self.axes)

    def __repr__(self):
        return f"TensorLayout({self.axes})"
