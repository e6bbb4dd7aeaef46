"""DataParallel and ModelParallel: where variables live and how batches are split.

A distribution is active inside ``with distribution.scope():`` or everywhere after
``set_distribution(distribution)``. Variables created while one is active are placed with
their layout when they get their value (a model never exists unsharded on one device);
``fit`` / ``evaluate`` / ``predict`` split each batch along the batch axis.
"""
import contextlib
import os

from zoo.backend.common import global_state
from zoo.distribution.layout_map import LayoutMap
from zoo.distribution.mesh import DeviceMesh, TensorLayout, _backend_distribution, list_devices


class Distribution:
    def __init__(self, device_mesh, batch_dim_name):
        _backend_distribution()  # refuse early on a backend that cannot shard
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(f"{type(self).__name__}: batch_dim_name {batch_dim_name!r} is "
                             f"not an axis of {device_mesh!r}.")
        self.device_mesh = device_mesh
        self.batch_dim_name = batch_dim_name

    def get_variable_layout(self, variable):
        """The variable's TensorLayout (checked against its shape); None = replicated."""
        return None

    def get_data_layout(self, shape):
        """Batches are split along their first dimension over the batch axis."""
        axes = (self.batch_dim_name,) + (None,) * (len(shape) - 1)
        return TensorLayout(axes, self.device_mesh) if shape else None

    @contextlib.contextmanager
    def scope(self):
        """Make this the active distribution inside the ``with`` block."""
        outer = global_state.get("distribution_scope")
        global_state.set("distribution_scope", self)
        try:
            yield self
        finally:
            global_state.set("distribution_scope", outer)

    def __repr__(self):
        return f"<{type(self).__name__} {self.device_mesh!r} batch={self.batch_dim_name!r}>"


class DataParallel(Distribution):
    """Every variable replicated on every device; batches split over all devices.

    ``DataParallel(devices=...)`` builds a 1-D mesh named "batch"; or pass ``device_mesh``.
    """

    def __init__(self, device_mesh=None, devices=None):
        if device_mesh is None:
            devices = list_devices() if devices is None else list(devices)
            device_mesh = DeviceMesh((len(devices),), ("batch",), devices)
        super().__init__(device_mesh, device_mesh.axis_names[0])


class ModelParallel(Distribution):
    """Variables split by ``layout_map`` (see ``Backbone.get_layout_map``); batches split
    over ``batch_dim_name`` (by default the layout map's, else the mesh's first axis) and
    replicated over the other axes."""

    def __init__(self, layout_map, batch_dim_name=None, device_mesh=None):
        if not isinstance(layout_map, LayoutMap):
            raise TypeError(f"ModelParallel: layout_map must be a LayoutMap, not "
                            f"{type(layout_map).__name__}.")
        device_mesh = device_mesh or layout_map.device_mesh
        if device_mesh is not layout_map.device_mesh:
            raise ValueError("ModelParallel: device_mesh is not the layout map's mesh.")
        batch_dim_name = batch_dim_name or layout_map.batch_dim_name or device_mesh.axis_names[0]
        super().__init__(device_mesh, batch_dim_name)
        self.layout_map = layout_map

    def get_variable_layout(self, variable):
        layout = self.layout_map[variable.path]
        if layout is not None:
            layout.check_shape(variable.shape, f"Variable {variable.path!r}")
        return layout


def set_distribution(value):
    """Make ``value`` (a DataParallel / ModelParallel, or None) the process's distribution."""
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(f"set_distribution: expected a DataParallel or ModelParallel (or "
                        f"None), got {type(value).__name__}.")
    global_state.set_process_distribution(value)


def distribution():
    """The active distribution (a scope's, else the process's), or None."""
    return global_state.distribution()


def _env_int(name):
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Environment variable {name}={value!r} is not an integer.") from None


def initialize(coordinator_address=None, num_processes=None, process_id=None):
    """Join this process to a multi-process run (``jax.distributed``) before anything else
    touches the devices. Each argument falls back to ``ZOO_COORDINATOR_ADDRESS``,
    ``ZOO_NUM_PROCESSES``, ``ZOO_PROCESS_ID``; with none set, JAX detects the cluster
    itself (TPU pods, SLURM, Open MPI)."""
    coordinator_address = coordinator_address or os.environ.get("ZOO_COORDINATOR_ADDRESS")
    if num_processes is None:
        num_processes = _env_int("ZOO_NUM_PROCESSES")
    if process_id is None:
        process_id = _env_int("ZOO_PROCESS_ID")
    given = [coordinator_address, num_processes, process_id]
    if any(v is not None for v in given) and any(v is None for v in given):
        raise ValueError(
            "initialize: give coordinator_address, num_processes and process_id together "
            "(arguments or ZOO_COORDINATOR_ADDRESS / ZOO_NUM_PROCESSES / ZOO_PROCESS_ID); "
            f"got {coordinator_address!r}, {num_processes!r}, {process_id!r}.")
    if num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"initialize: process_id {process_id} is not in "
                         f"[0, {num_processes}).")
    _backend_distribution().initialize(coordinator_address, num_processes, process_id)


def process_count():
    return _backend_distribution().process_count()


def process_index():
    return _backend_distribution().process_index()
