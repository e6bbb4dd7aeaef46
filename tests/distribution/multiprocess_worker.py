"""One process of a multi-process run (tests/distribution/test_multiprocess.py).

    python multiprocess_worker.py PROCESS_ID NUM_PROCESSES PORT INITIAL_NPZ OUT_NPZ

Each process has 4 virtual CPU devices; together they form a (2, 4) mesh. The process
trains the tiny OPT model from INITIAL_NPZ under ModelParallel and process 0 writes the
gathered weights and losses to OUT_NPZ and the model as a preset to OUT_NPZ.preset.
"""
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
os.environ["ZOO_BACKEND"] = "jax"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(process_id, num_processes, port, initial_path, out_path):
    import numpy as np

    from zoo import distribution

    distribution.initialize(f"127.0.0.1:{port}", num_processes, process_id)
    from tests.distribution.conftest import opt_data, opt_model
    from zoo.models.opt.backbone import OPTBackbone

    assert len(distribution.list_devices()) == 4 * num_processes
    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    with np.load(initial_path, allow_pickle=False) as stored:
        initial = [stored[f"w{i}"] for i in range(len(stored.files))]
    with distribution.ModelParallel(OPTBackbone.get_layout_map(mesh)).scope():
        model = opt_model(initial)
        history = model.fit(*opt_data(), batch_size=8, epochs=2, shuffle=False, verbose=0)
    weights = [variable.numpy() for variable in model.variables]  # every process gathers
    model.save_to_preset(out_path + ".preset")  # every process gathers, process 0 writes
    if distribution.process_index() == 0:
        np.savez(out_path, loss=np.array(history.history["loss"]),
                 **{f"w{i}": w for i, w in enumerate(weights)})


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
