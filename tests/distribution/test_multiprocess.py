"""Two processes of 4 virtual devices, joined by jax.distributed on loopback, train the
same model as one process of 8 and reach the same weights; their save_to_preset writes
one preset (process 0) from the gathered shards."""
import os
import socket
import subprocess
import sys

import numpy as np

from tests.distribution.conftest import needs_8_devices, opt_data, opt_model, weights_of

WORKER = os.path.join(os.path.dirname(__file__), "multiprocess_worker.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_8_devices
def test_two_processes_of_four_devices_match_one_process_of_eight(tmp_path):
    from zoo import distribution
    from zoo.models.opt.backbone import OPTBackbone
    from zoo.models.opt.causal_lm import OPTCausalLM

    initial = weights_of(opt_model())
    np.savez(tmp_path / "initial.npz", **{f"w{i}": w for i, w in enumerate(initial)})
    port = free_port()
    out = tmp_path / "result.npz"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    workers = [subprocess.Popen(
        [sys.executable, WORKER, str(rank), "2", str(port), str(tmp_path / "initial.npz"),
         str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in range(2)]
    logs = []
    try:
        for worker in workers:
            logs.append(worker.communicate(timeout=300)[0])
    finally:
        for worker in workers:
            worker.kill()
    for worker, log in zip(workers, logs):
        assert worker.returncode == 0, log[-3000:]

    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    with distribution.ModelParallel(OPTBackbone.get_layout_map(mesh)).scope():
        model = opt_model(initial)
        history = model.fit(*opt_data(), batch_size=8, epochs=2, shuffle=False, verbose=0)
    saved = OPTCausalLM.from_preset(str(out) + ".preset")
    for a, b in zip(weights_of(saved), weights_of(model)):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    leftovers = [name for name in os.listdir(tmp_path) if ".tmp-" in name]
    assert not leftovers  # the other process's staging directory is gone
    with np.load(out, allow_pickle=False) as result:
        np.testing.assert_allclose(result["loss"], history.history["loss"], atol=1e-5, rtol=0)
        for i, variable in enumerate(model.variables):
            np.testing.assert_allclose(result[f"w{i}"], variable.numpy(), atol=1e-5, rtol=0,
                                       err_msg=variable.path)
