"""zoo.config.set_torch_acceleration / torch_acceleration: a round trip, the ZOO_TORCH_*
environment variables as defaults, clear errors, and (torch) the settings applied to the
backend's accel package at once (zoo/backend/common/acceleration.py)."""
import os
import subprocess
import sys

import pytest

import zoo
from zoo.backend.common import acceleration

from tests.conftest import BACKEND

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def settings_kept():
    before = zoo.config.torch_acceleration()
    yield before
    zoo.config.set_torch_acceleration(packed_weights_mb=before.packed_weights_mb,
                                      kernel=before.kernel,
                                      onednn_training=before.onednn_training)


def test_round_trip_changes_only_what_is_given(settings_kept):
    new = zoo.config.set_torch_acceleration(kernel="PLAIN", onednn_training=False)
    assert new == zoo.config.torch_acceleration()
    assert (new.kernel, new.onednn_training) == ("plain", "off")
    assert new.packed_weights_mb == settings_kept.packed_weights_mb
    assert new.pinned
    again = zoo.config.set_torch_acceleration(packed_weights_mb=64, onednn_training="auto")
    assert again == zoo.config.TorchAcceleration(64.0, "plain", "auto")
    assert not again.pinned and again.packed_weights_bytes == 64 * 2 ** 20
    assert zoo.config.set_torch_acceleration(onednn_training=True).onednn_training == "on"


def test_defaults_come_from_the_environment():
    assert acceleration.from_environment({}) == zoo.config.TorchAcceleration(2048.0, "auto",
                                                                            "auto")
    got = acceleration.from_environment({"ZOO_TORCH_PACKED_WEIGHTS_MB": "1.5",
                                         "ZOO_TORCH_PACKED_KERNEL": "MKL",
                                         "ZOO_TORCH_ONEDNN_TRAINING": "0"})
    assert got == zoo.config.TorchAcceleration(1.5, "mkl", "off")
    assert got.packed_weights_bytes == int(1.5 * 2 ** 20)
    assert acceleration.from_environment({"ZOO_TORCH_ONEDNN_TRAINING": "on"}).pinned is False


@pytest.mark.parametrize("variable, value, expected", [
    ("ZOO_TORCH_PACKED_WEIGHTS_MB", "lots", "ZOO_TORCH_PACKED_WEIGHTS_MB='lots'"),
    ("ZOO_TORCH_PACKED_WEIGHTS_MB", "-1", "ZOO_TORCH_PACKED_WEIGHTS_MB='-1'.*>= 0"),
    ("ZOO_TORCH_PACKED_KERNEL", "fastest",
     "ZOO_TORCH_PACKED_KERNEL='fastest'.*auto, mkl, onednn or plain"),
    ("ZOO_TORCH_ONEDNN_TRAINING", "yes", "ZOO_TORCH_ONEDNN_TRAINING='yes'")])
def test_a_bad_environment_value_names_its_variable(variable, value, expected):
    with pytest.raises(ValueError, match=expected):
        acceleration.from_environment({variable: value})


def test_a_bad_setting_names_itself_and_changes_nothing(settings_kept):
    for kwargs, expected in (({"kernel": "fast"}, "kernel='fast'"),
                             ({"packed_weights_mb": "big"}, "packed_weights_mb='big'"),
                             ({"onednn_training": "maybe"}, "onednn_training='maybe'")):
        with pytest.raises(ValueError, match=f"set_torch_acceleration: {expected}"):
            zoo.config.set_torch_acceleration(**kwargs)
        assert zoo.config.torch_acceleration() == settings_kept


def test_environment_defaults_reach_a_fresh_process():
    """The variables set before zoo is imported are the settings (on torch: the packed
    cache and the oneDNN mode of the accel package); nothing else imports torch."""
    code = ("import sys, zoo; s = zoo.config.torch_acceleration(); "
            "print(s.packed_weights_mb, s.kernel, s.onednn_training, 'torch' in sys.modules)")
    if BACKEND == "torch":
        code += ("; from zoo.backend.torch import accel; "
                 "print(accel.packed_weights.cache().budget, accel.onednn_training.mode())")
    env = dict(os.environ, ZOO_BACKEND=BACKEND, PYTHONPATH=ROOT,
               ZOO_TORCH_PACKED_WEIGHTS_MB="3", ZOO_TORCH_PACKED_KERNEL="plain",
               ZOO_TORCH_ONEDNN_TRAINING="off")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"3.0 plain off {BACKEND == 'torch'}"
    if BACKEND == "torch":
        assert lines[1] == "0 off"  # plain: nothing packed


@pytest.mark.skipif(BACKEND != "torch", reason="the torch backend applies the settings")
def test_settings_apply_to_the_torch_backend_at_once(monkeypatch, settings_kept):
    from zoo.backend.torch.accel import kernels, onednn_training, packed_weights

    names = sorted(kernels.KERNELS)
    if names:
        zoo.config.set_torch_acceleration(packed_weights_mb=8, kernel=names[0])
        cache = packed_weights.cache()
        assert (cache.budget, cache.kernel) == (8 * 2 ** 20, kernels.KERNELS[names[0]])
        zoo.config.set_torch_acceleration(onednn_training="on")  # the cache is kept
        assert packed_weights.cache() is cache
    zoo.config.set_torch_acceleration(kernel="auto")
    assert packed_weights.cache().kernel is None  # timed per row bucket
    if onednn_training.AVAILABLE:
        zoo.config.set_torch_acceleration(onednn_training="off")
        assert onednn_training.mode() == "off"
    monkeypatch.setattr(kernels, "KERNELS", {})  # a torch build without packed kernels
    before = zoo.config.torch_acceleration()
    with pytest.raises(ValueError, match="kernel='mkl'.*no mkl kernel"):
        zoo.config.set_torch_acceleration(kernel="mkl")
    assert zoo.config.torch_acceleration() == before
