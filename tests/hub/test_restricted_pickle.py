"""zoo/hub/restricted_pickle.py: torch zip checkpoints read with NumPy only, no code from the
file executed. The checkpoints are made by torch and ultralytics themselves
(tests/models/yolov8/make_checkpoint_references.py, in a subprocess); the malicious ones
here, by hand (a zip archive laid out as torch.save lays it out)."""
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tests.references import reference_fixture
from zoo.hub import restricted_pickle as rp
from zoo.models.yolov8 import ultralytics_checkpoint as uc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ultralytics_checkpoints = reference_fixture(
    os.path.join(ROOT, "models", "yolov8", "make_checkpoint_references.py"),
    requires=("ultralytics", "torch"), python_path=[os.path.join(ROOT, "stand_ins")],
    name="checkpoints")


def test_tensor_layouts_match_torch(checkpoints):
    content = rp.load(os.path.join(checkpoints, "tensors.pt"))
    ref = np.load(os.path.join(checkpoints, "tensors.npz"))
    assert sorted(content["tensors"]) == sorted(ref.files)
    for name in ref.files:
        got = content["tensors"][name]
        assert got.shape == ref[name].shape and got.dtype == ref[name].dtype, name
        np.testing.assert_array_equal(got, ref[name], err_msg=name)
    np.testing.assert_array_equal(content["param"], np.arange(30, 40, dtype=np.float32))
    assert content["size"] == (2, 3) and content["set"] == {1, 2}
    assert content["np"] == np.float32(1.5)
    np.testing.assert_array_equal(content["np_array"], np.arange(6).reshape(2, 3))
    assert content["np_array"].dtype == np.int16
    assert content["path"] == "runs/detect/train" and content["device"] == "cpu"


@pytest.mark.parametrize("name", ["trainer", "saved_s"])
def test_ultralytics_state_dict_equals_torch_load(checkpoints, name):
    """Every tensor, its name, order, dtype (fp16 as stored) and bits as
    torch.load(weights_only=False)'s model.state_dict()."""
    checkpoint = uc.read_checkpoint(os.path.join(checkpoints, name + ".pt"))
    ref = np.load(os.path.join(checkpoints, name + ".npz"))
    assert list(checkpoint.state_dict) == list(ref.files)
    for key in ref.files:
        got = checkpoint.state_dict[key]
        assert got.dtype == ref[key].dtype and got.shape == ref[key].shape, key
        np.testing.assert_array_equal(got, ref[key], err_msg=key)
    import json

    with open(os.path.join(checkpoints, name + ".json")) as f:
        info = json.load(f)
    assert checkpoint.names == {int(k): v for k, v in info["names"].items()}
    np.testing.assert_array_equal(checkpoint.stride, info["stride"])
    assert checkpoint.yaml["scale"] == info["yaml"]["scale"]
    assert checkpoint.yaml["nc"] == info["yaml"]["nc"]


def test_reads_with_torch_absent(checkpoints):
    """The reader imports no torch (a child process where importing torch fails)."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from zoo.models.yolov8 import ultralytics_checkpoint as uc\n"
            f"c = uc.read_checkpoint({os.path.join(checkpoints, 'trainer.pt')!r})\n"
            "print(len(c.state_dict), c.names[4])")
    env = {**os.environ, "ZOO_BACKEND": "numpy", "PYTHONPATH": os.path.dirname(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["355", "thing_4"]


@pytest.mark.parametrize("kind", ["cls", "seg"])
def test_other_ultralytics_tasks_are_refused_saying_what_they_are(checkpoints, kind):
    path = os.path.join(checkpoints, kind + ".pt")
    what = {"cls": "image classification", "seg": "instance segmentation"}[kind]
    with pytest.raises(rp.CheckpointError, match=what) as caught:
        uc.read_checkpoint(path)
    assert path in str(caught.value)


# -- malicious pickles ----------------------------------------------------------------------

class _Runs:
    """Pickles as ``function(*args)``: what torch.load would call."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _payloads(marker):
    import builtins
    import posix

    command = f"touch {marker}"
    return {
        "os.system": _Runs(os.system, command),
        "posix.system": _Runs(posix.system, command),
        "builtins.eval": _Runs(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.Popen": _Runs(subprocess.Popen, ["touch", str(marker)]),
    }


def _torch_zip(path, obj, prefix="archive"):
    """A zip laid out as torch.save writes one, data.pkl pickled with protocol 2."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{prefix}/data.pkl", pickle.dumps(obj, protocol=2))
        archive.writestr(f"{prefix}/byteorder", "little")
        archive.writestr(f"{prefix}/version", "3\n")


@pytest.mark.parametrize("payload", ["os.system", "posix.system", "builtins.eval",
                                     "subprocess.Popen"])
def test_code_in_a_zip_checkpoint_is_refused_and_never_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = str(tmp_path / "evil.pt")
    # nested inside what looks like an ultralytics checkpoint
    _torch_zip(path, {"model": _payloads(marker)[payload], "version": "ultralytics 8"})
    name = {"os.system": "posix.system"}.get(payload, payload)  # os.system pickles as posix
    with pytest.raises(rp.RefusedGlobalError, match=f"'{name}'") as caught:
        uc.read_checkpoint(path)
    assert path in str(caught.value)
    assert not marker.exists()
    with pytest.raises(rp.RefusedGlobalError):
        rp.load(path, uc.ALLOWED_GLOBALS)
    assert not marker.exists()


@pytest.mark.parametrize("payload", ["os.system", "builtins.eval", "subprocess.Popen"])
def test_code_in_a_plain_pickle_is_refused_and_never_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    data = pickle.dumps(_payloads(marker)[payload], protocol=2)
    path = tmp_path / "evil.pt"
    path.write_bytes(data)
    with pytest.raises(rp.CheckpointError, match="legacy"):  # never unpickled at all
        rp.load(path, uc.ALLOWED_GLOBALS)
    unpickler = rp.RestrictedUnpickler(io.BytesIO(data), str(path), uc.ALLOWED_GLOBALS,
                                       storage=None)
    with pytest.raises(rp.RefusedGlobalError, match="evil.pt"):
        unpickler.load()
    assert not marker.exists()


def test_a_class_off_the_allow_list_is_refused(tmp_path):
    path = str(tmp_path / "odd.pt")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x/data.pkl", b"\x80\x02cultralytics.utils\nLOGGER\nq\x00.")
    with pytest.raises(rp.RefusedGlobalError, match="'ultralytics.utils.LOGGER'"):
        rp.load(path, uc.ALLOWED_GLOBALS)


def test_allowed_classes_are_inert(tmp_path):
    """A placeholder records construction arguments and state; nothing of the class runs."""
    path = str(tmp_path / "m.pt")
    data = (b"\x80\x02cultralytics.nn.modules.conv\nConv\nq\x00)\x81q\x01}q\x02X\x01\x00\x00"
            b"\x00aK\x05sb.")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x/data.pkl", data)
    obj = rp.load(path, uc.ALLOWED_GLOBALS)
    assert isinstance(obj, rp.Recorded) and obj.qualified_name == \
        "ultralytics.nn.modules.conv.Conv" and obj.state == {"a": 5}


def test_state_cannot_be_set_on_allowed_functions(tmp_path):
    """BUILD on an allowed function (e.g. setting its __defaults__) is refused."""
    path = str(tmp_path / "tamper.pt")
    data = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nq\x00N}q\x01X\x0c\x00\x00\x00"
            b"__defaults__q\x02K\x01\x85q\x03s\x86q\x04b.")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x/data.pkl", data)
    with pytest.raises(rp.CheckpointError, match="sets state"):
        rp.load(path)
    assert rp._rebuild_tensor.__defaults__ == (False, None, None)


def test_expanded_views_are_bounded():
    with pytest.raises(pickle.UnpicklingError, match="expansion"):
        rp._rebuild_tensor(np.zeros(4, np.float32), 0, (1 << 20, 1 << 10), (0, 0))


# -- damaged files --------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_checkpoint_names_the_file(checkpoints, tmp_path, keep):
    data = open(os.path.join(checkpoints, "trainer.pt"), "rb").read()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(rp.CheckpointError, match="cut.pt"):
        uc.read_checkpoint(path)


def test_missing_storage_and_bad_layouts_are_errors(tmp_path, checkpoints):
    source = os.path.join(checkpoints, "tensors.pt")
    path = str(tmp_path / "missing.pt")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith("/data/0"):
                dst.writestr(info, src.read(info))
    with pytest.raises(rp.CheckpointError, match="missing.pt.*no .*data/0"):
        rp.load(path)
    with pytest.raises(pickle.UnpicklingError, match="reaches element"):
        rp._rebuild_tensor(np.zeros(4, np.float32), 2, (3,), (1,))


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    path.write_bytes(b"hello")
    with pytest.raises(rp.CheckpointError, match="x.pt is not a torch zip checkpoint"):
        rp.load(path)
    with pytest.raises(rp.CheckpointError, match="directory"):
        rp.load(tmp_path)
    assert not uc.looks_like_checkpoint(str(path))
