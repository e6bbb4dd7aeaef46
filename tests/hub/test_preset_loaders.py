"""Loaders for other checkpoint ecosystems: one registered for a made-up format, chosen by
what its files are (a single ``.tinyz`` file, or a directory with ``tiny.cfg`` +
``tiny.npz``), loads through every ``from_preset``."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm
from zoo.hub import loaders
from zoo.hub.preset_format import PresetError


def _tiny_config(path):
    if os.path.isfile(path):
        with np.load(path) as data:
            return json.loads(str(data["__config__"]))
    with open(os.path.join(path, "tiny.cfg"), encoding="utf-8") as f:
        return json.load(f)


class TinyFormatLoader(loaders.CheckpointLoader):
    """A ``.tinyz`` file (npz with a JSON ``__config__``), or a ``tiny.cfg`` + ``tiny.npz``
    directory, of TinyBackbone weights named like hf_state_dict."""
    kind = "tiny checkpoint"

    @classmethod
    def claims(cls, path):
        if os.path.isfile(path):
            return path.endswith(".tinyz")
        return all(os.path.isfile(os.path.join(path, n)) for n in ("tiny.cfg", "tiny.npz"))

    def backbone_class(self):
        return pm.TinyBackbone

    def backbone_config(self):
        return pm.hf_backbone_config(_tiny_config(self.path))

    def read_weights(self):
        path = self.path if os.path.isfile(self.path) else os.path.join(self.path, "tiny.npz")
        with np.load(path) as data:
            return {k: data[k] for k in data.files if k != "__config__"}

    def port_backbone_weights(self, backbone, reader):
        pm.hf_load_backbone(backbone, reader)

    def head_porter(self, task_cls):
        return pm.hf_load_classifier if task_cls is pm.TinyClassifier else None


@pytest.fixture
def tiny_loader():
    loaders.register_loader(TinyFormatLoader)
    yield TinyFormatLoader
    loaders.unregister_loader(TinyFormatLoader)


def write_single_file(path, tensors):
    np.savez(path, __config__=json.dumps(pm.HF_CONFIG), **tensors)
    os.rename(path + ".npz", path)
    return path


def test_a_registered_loader_reads_a_single_file_handle(tiny_loader, tmp_path):
    tensors = pm.hf_state_dict(seed=7, num_classes=3)
    path = write_single_file(str(tmp_path / "weights.tinyz"), tensors)
    assert loaders.find_loader(path) is TinyFormatLoader
    backbone = zoo.Model.from_preset(path)
    assert type(backbone) is pm.TinyBackbone and not any(v.deferred for v in backbone.variables)
    np.testing.assert_array_equal(backbone.blocks[1].kernel.numpy(),
                                  tensors["tiny.layers.1.weight"].T)
    assert "tiny checkpoint" in backbone._zoo_preset_source
    task = pm.TinyClassifier.from_preset(path, num_classes=3)
    np.testing.assert_array_equal(task.head.kernel.numpy(), tensors["classifier.weight"].T)
    assert task.preprocessor is None  # the format has no tokenizer
    with pytest.raises(PresetError, match="converts to TinyBackbone, not a Sequential"):
        zoo.Sequential.from_preset(path)


def test_a_registered_loader_is_chosen_by_the_files_of_a_directory(tiny_loader, tmp_path):
    tensors = pm.hf_state_dict(seed=8)
    (tmp_path / "tiny.cfg").write_text(json.dumps(pm.HF_CONFIG))
    np.savez(str(tmp_path / "tiny.npz"), **tensors)
    backbone = pm.TinyBackbone.from_preset(str(tmp_path), dropout=0.2)
    assert backbone.dropout == 0.2
    np.testing.assert_array_equal(backbone.norm.gamma.numpy(), tensors["tiny.norm.weight"])
    saved = str(tmp_path / "as_zoo")
    backbone.save_to_preset(saved)  # and it is a zoo preset from then on
    assert loaders.find_loader(saved) is loaders.ZooPresetLoader
    again = zoo.Model.from_preset(saved)
    np.testing.assert_array_equal(pm.to_numpy(again(pm.TOKENS))["pooled_output"],
                                  pm.to_numpy(backbone(pm.TOKENS))["pooled_output"])


def test_without_the_loader_a_file_is_refused(tmp_path):
    path = write_single_file(str(tmp_path / "weights.tinyz"), pm.hf_state_dict())
    assert loaders.find_loader(path) is None
    with pytest.raises(PresetError, match="is a file"):
        zoo.Model.from_preset(path)


def test_zoo_presets_come_before_registered_loaders(tiny_loader, tmp_path):
    order = loaders.loader_classes()
    assert order[0] is loaders.ZooPresetLoader and order[-1] is loaders.TransformersLoader
    assert order.index(TinyFormatLoader) not in (0, len(order) - 1)
    loaders.register_loader(TinyFormatLoader)  # twice: still once
    assert loaders.loader_classes().count(TinyFormatLoader) == 1
    with pytest.raises(TypeError, match="not a PresetLoader"):
        loaders.register_loader(object)


class RemoteTinyFormatLoader(TinyFormatLoader):
    @classmethod
    def remote_files(cls, listing, allow_pickle=False):
        wanted = ["tiny.cfg", "tiny.npz"]
        return wanted if all(name in listing for name in wanted) else None


def test_a_registered_loader_names_the_files_to_download(fake_hub, tmp_path):
    import io

    from tests.hub.conftest import snapshot_files

    tensors = pm.hf_state_dict(seed=9)
    weights = io.BytesIO()
    np.savez(weights, **tensors)
    fake_hub.add_files("org/tiny", {"tiny.cfg": json.dumps(pm.HF_CONFIG).encode(),
                                    "tiny.npz": weights.getvalue(), "README.md": b"# tiny\n",
                                    "training_log.bin": b"\0not needed"})
    loaders.register_loader(RemoteTinyFormatLoader)
    try:
        from zoo.hub import download

        resolved = download.resolve("hf://org/tiny")
        assert snapshot_files(resolved.path) == ["tiny.cfg", "tiny.npz"]
        assert resolved.source_format == "tiny checkpoint"
        backbone = zoo.Model.from_preset("hf://org/tiny")
        np.testing.assert_array_equal(backbone.norm.beta.numpy(), tensors["tiny.norm.bias"])
    finally:
        loaders.unregister_loader(RemoteTinyFormatLoader)
    with pytest.raises(OSError, match="no config.json.*no registered loader"):
        download.resolve("hf://org/tiny")
