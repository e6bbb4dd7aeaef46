"""examples/distributed_finetune.py end to end on the shipped BERT preset: sharded
from_preset, fit, evaluate, save_to_preset, reload on one device with the same logits."""
import importlib.util
import os

import pytest

from tests.distribution.conftest import needs_8_devices

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                       "distributed_finetune.py")


def load_example():
    spec = importlib.util.spec_from_file_location("distributed_finetune", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_8_devices
def test_the_example_runs_the_whole_path(tmp_path, capsys):
    example = load_example()
    result = example.main(["--mesh", "4x2", "--epochs", "1", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "8 shards of (128, 256)" in printed  # the MLP kernel split in two over "model"
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["max_difference"] < 1e-5
    assert os.path.exists(tmp_path / "out" / "model.weights.h5")


@needs_8_devices
def test_a_mesh_that_does_not_fit_the_devices_is_refused():
    with pytest.raises(SystemExit, match="--mesh 3x2 needs 6 devices"):
        load_example().main(["--mesh", "3x2"])
    with pytest.raises(SystemExit, match="write it BATCHxMODEL"):
        load_example().main(["--mesh", "four"])
