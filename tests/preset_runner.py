"""The child process of ``run_preset_test``: load a preset with the public API on the backend
this process was started with (``ZOO_BACKEND``), call it on saved inputs, save the outputs.

    python -m tests.preset_runner PRESET_DIR INPUTS.npz OUTPUTS_DIR [MODULE ...]

MODULEs are imported first (the modules that register the classes a test preset names).
INPUTS.npz holds ``input`` (one tensor) or ``input/<name>`` entries (a dict of inputs);
OUTPUTS_DIR/<backend>.npz gets ``tests.testing.flatten`` of the outputs. The class of the loaded model
is printed as ``CLASS <name>``.
"""
import importlib
import os
import sys

import numpy as np

SINGLE = "input"
PREFIX = "input/"


def save_inputs(path, data):
    """``data`` (one array or a dict of arrays) in the layout ``load_inputs`` reads."""
    from tests.testing import to_numpy

    if isinstance(data, dict):
        arrays = {PREFIX + key: to_numpy(value) for key, value in data.items()}
    elif isinstance(data, (list, tuple)):
        raise TypeError("run_preset_test takes one input tensor or a dict of them, "
                        f"not a {type(data).__name__}")
    else:
        arrays = {SINGLE: to_numpy(data)}
    np.savez(path, **arrays)


def load_inputs(path):
    with np.load(path, allow_pickle=False) as saved:
        if SINGLE in saved.files:
            return saved[SINGLE]
        return {name[len(PREFIX):]: saved[name] for name in saved.files}


def main(preset, inputs_path, outputs_directory, *modules):
    for module in modules:
        importlib.import_module(module)
    import zoo
    from tests.testing import flatten

    model = zoo.Model.from_preset(preset)
    outputs = flatten(model(load_inputs(inputs_path)))
    os.makedirs(outputs_directory, exist_ok=True)
    np.savez(os.path.join(outputs_directory, f"{zoo.config.backend()}.npz"), **outputs)
    print(f"CLASS {type(model).__name__}")


if __name__ == "__main__":
    main(*sys.argv[1:])
