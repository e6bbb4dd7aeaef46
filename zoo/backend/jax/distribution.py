"""zoo.distribution on JAX: meshes and layouts become jax.sharding objects."""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def _devices(platform=None):
    try:
        return jax.devices(platform.lower()) if platform else jax.devices()
    except RuntimeError:
        return []


def list_devices(device_type=None):
    devices = _devices(device_type)
    if not devices:
        raise ValueError(f"No {device_type!r} devices; this run has {list_devices()}.")
    return [f"{d.platform}:{d.id}" for d in devices]


def _device(spec):
    if not isinstance(spec, str):
        return spec  # already a jax device
    platform, _, index = spec.partition(":")
    for device in _devices(platform):
        if str(device.id) == index:
            return device
    raise ValueError(f"No device {spec!r}; this run has {list_devices()}.")


def make_mesh(device_mesh):
    devices = np.vectorize(_device, otypes=[object])(device_mesh.devices)
    return Mesh(devices, device_mesh.axis_names)


def sharding(layout, device_mesh):
    """The NamedSharding of ``layout`` (None: replicated over the mesh)."""
    axes = () if layout is None else layout.axes
    return NamedSharding(device_mesh.backend_mesh, PartitionSpec(*axes))


def place(value, target):
    """``value`` (a NumPy or jax array) as a jax array with sharding ``target``. A host
    array is cut into each device's slice on the host: it is never copied whole to one
    device first."""
    if isinstance(value, jax.Array):
        if value.sharding == target:
            return value
        if value.is_fully_addressable and jax.process_count() == 1:
            return jax.device_put(value, target)
    array = np.asarray(value)
    # each slice copied: on CPU a device array may otherwise alias the caller's memory
    return jax.make_array_from_callback(array.shape, target,
                                        lambda index: np.array(array[index]))


def place_from_reader(shape, dtype, target, read):
    """A jax array of ``shape`` with sharding ``target`` whose slices come from
    ``read(index)`` (a tuple of slices): only this process's devices' slices are read, and
    each distinct slice once."""
    cache = {}

    def slice_for(index):
        key = tuple((s.start, s.stop, s.step) for s in index)
        if key not in cache:
            cache[key] = np.asarray(read(index), dtype=dtype)
        return cache[key]

    return jax.make_array_from_callback(tuple(shape), target, slice_for)


def mesh_sharding_of(value, device_mesh):
    """``value``'s sharding if it already lives on ``device_mesh``, else replicated."""
    current = getattr(value, "sharding", None)
    if isinstance(current, NamedSharding) and current.mesh == device_mesh.backend_mesh:
        return current
    return sharding(None, device_mesh)


def place_batch(data, active):
    """Each array of a batch split along its first dimension over ``active``'s batch axis
    (replicated where that dimension does not divide, e.g. a last, smaller batch). Every
    process passes the same global batch; each keeps its own devices' rows."""
    size = active.device_mesh.axis_size(active.batch_dim_name)

    def leaf(x):
        shape = getattr(x, "shape", ())
        if shape and shape[0] % size == 0:
            return place(x, sharding(active.get_data_layout(shape), active.device_mesh))
        return place(x, sharding(None, active.device_mesh))

    return jax.tree_util.tree_map(leaf, data)


def initialize(coordinator_address, num_processes, process_id):
    # CPU devices of several processes talk through gloo (GPUs/TPUs use their own links).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator_address,
                               num_processes=num_processes, process_id=process_id)


def process_count():
    return jax.process_count()


def process_index():
    return jax.process_index()


def gather(value):
    """A NumPy copy of a jax array whose shards live in several processes (a collective:
    every process calls it)."""
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(value, tiled=True))
