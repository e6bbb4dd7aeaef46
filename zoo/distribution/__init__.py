"""Sharding on the JAX backend: device meshes, layouts, data and model parallelism.

    mesh = DeviceMesh((2, 4), ("batch", "model"))
    strategy = ModelParallel(layout_map=OPTBackbone.get_layout_map(mesh))
    with strategy.scope():
        model = OPTCausalLM.from_preset("opt_1_3b")   # each device reads its slices
        model.fit(...)                                # batches split over "batch"

Other backends raise a clear error instead of running on one device.
"""
from zoo.distribution.distributions import (  # noqa: F401
    DataParallel,
    Distribution,
    ModelParallel,
    distribution,
    initialize,
    process_count,
    process_index,
    set_distribution,
)
from zoo.distribution.layout_map import LayoutMap  # noqa: F401
from zoo.distribution.mesh import DeviceMesh, TensorLayout, list_devices  # noqa: F401
