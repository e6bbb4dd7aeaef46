"""Bad presets are refused with an error that names the file at fault; an interrupted save
leaves the old preset intact and no partial directory."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm
from zoo.hub import preset_format as fmt
from zoo.hub.preset_format import PresetError
from zoo.models import Backbone
from zoo.saving import register_serializable


@register_serializable(package="zoo_tests")
class OtherBackbone(Backbone):
    pass


@pytest.fixture
def preset(tmp_path):
    path = tmp_path / "p"
    pm.make_classifier(seed=2).save_to_preset(str(path))
    return path


def rewrite(path, name, data, update_checksum=True):
    """Replace a preset file; with ``update_checksum`` metadata.json agrees with it."""
    target = path / name
    target.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    if update_checksum:
        metadata = json.loads((path / "metadata.json").read_text())
        metadata["files"][name] = fmt.sha256_file(target)
        (path / "metadata.json").write_text(json.dumps(metadata))


def config_of(path):
    return json.loads((path / "config.json").read_text())


def test_missing_weights_file(preset):
    os.remove(preset / "model.weights.h5")
    with pytest.raises(PresetError, match=r"'model\.weights\.h5' is missing"):
        zoo.Model.from_preset(str(preset))


def test_missing_file_only_matters_when_it_is_used(preset):
    os.remove(preset / "assets" / "tokenizer" / "vocab.txt")
    assert type(pm.TinyBackbone.from_preset(str(preset))) is pm.TinyBackbone
    with pytest.raises(PresetError, match=r"'assets/tokenizer/vocab\.txt' is missing"):
        zoo.Model.from_preset(str(preset))


def test_missing_config_or_metadata(tmp_path, preset):
    os.remove(preset / "config.json")
    with pytest.raises(PresetError, match=r"'config\.json' is missing"):
        zoo.Model.from_preset(str(preset))
    os.remove(preset / "metadata.json")
    with pytest.raises(PresetError, match="neither a zoo preset"):
        zoo.Model.from_preset(str(preset))


def test_corrupted_weights_fail_the_checksum(preset):
    data = bytearray((preset / "model.weights.h5").read_bytes())
    data[len(data) // 2] ^= 0xFF
    rewrite(preset, "model.weights.h5", bytes(data), update_checksum=False)
    with pytest.raises(PresetError, match=r"'model\.weights\.h5' is corrupt: its sha256"):
        zoo.Model.from_preset(str(preset))


def test_truncated_weights_file(preset):
    data = (preset / "model.weights.h5").read_bytes()
    rewrite(preset, "model.weights.h5", data[: len(data) // 3], update_checksum=False)
    with pytest.raises(PresetError, match=r"model\.weights\.h5.*corrupt"):
        zoo.Model.from_preset(str(preset))
    # Even with a checksum that agrees (a preset written wrong), HDF5 refuses it by name.
    rewrite(preset, "model.weights.h5", data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"model\.weights\.h5.*not a readable zoo weights"):
        zoo.Model.from_preset(str(preset))


def test_checksum_mismatch_names_the_file(preset):
    config = config_of(preset)
    config["config"]["num_classes"] = 7
    rewrite(preset, "config.json", config, update_checksum=False)
    with pytest.raises(PresetError, match=r"'config\.json' is corrupt"):
        zoo.Model.from_preset(str(preset))


def test_file_not_listed_in_metadata(preset):
    metadata = json.loads((preset / "metadata.json").read_text())
    del metadata["files"]["model.weights.h5"]
    (preset / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(PresetError, match=r"'model\.weights\.h5' is not listed"):
        zoo.Model.from_preset(str(preset))


@pytest.mark.parametrize("bad", [{"files": {"../evil": "0" * 64, "config.json": "0" * 64}},
                                 {"format_version": 99}, {"format": "other"}])
def test_bad_metadata(preset, bad):
    metadata = json.loads((preset / "metadata.json").read_text())
    metadata.update(bad)
    (preset / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(PresetError, match="metadata.json|newer"):
        zoo.Model.from_preset(str(preset))


def test_unknown_class(preset):
    config = config_of(preset)
    config["class_name"] = "NoSuchModel"
    rewrite(preset, "config.json", config)
    with pytest.raises(PresetError, match=r"config\.json names class 'NoSuchModel'"):
        zoo.Model.from_preset(str(preset))
    config["class_name"] = "zoo_tests>TinyClassifier"
    config["config"]["backbone"]["class_name"] = "NoSuchBackbone"
    rewrite(preset, "config.json", config)
    with pytest.raises(PresetError, match="'NoSuchBackbone'"):
        zoo.Model.from_preset(str(preset))


def test_config_with_code_is_refused(preset):
    import base64
    import marshal

    config = config_of(preset)
    code = base64.b64encode(marshal.dumps((lambda: 0).__code__)).decode()
    config["config"]["backbone"]["config"]["activation"] = {
        "class_name": "__lambda__", "config": {"code": code, "name": "f"}}
    rewrite(preset, "config.json", config)
    with pytest.raises(PresetError, match=r"config\.json carries Python code"):
        zoo.Model.from_preset(str(preset))


def test_tokenizer_with_code_is_refused(preset):
    rewrite(preset, "tokenizer.json", {"class_name": "zoo_tests>TinyTokenizer", "config": {
        "lowercase": {"class_name": "__lambda__", "config": {"code": "", "name": "f"}}}})
    with pytest.raises(PresetError, match=r"tokenizer\.json carries Python code"):
        pm.TinyTokenizer.from_preset(str(preset))


def test_saving_code_is_refused(tmp_path):
    from zoo import layers

    model = zoo.Sequential([layers.Lambda(lambda x: x * 2)])
    model.build((None, 3))
    with pytest.raises(ValueError, match="carries Python code"):
        model.save_to_preset(str(tmp_path / "p"))
    assert not os.listdir(tmp_path)


def test_pickle_checkpoint_needs_opt_in(tmp_path):
    pm.register_tiny_converter()
    (tmp_path / "config.json").write_text(json.dumps(pm.HF_CONFIG))
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ValueError, match=r"pickle.*allow_pickle=True"):
        zoo.Model.from_preset(str(tmp_path))


def test_interrupted_save_keeps_old_preset(preset, monkeypatch):
    from zoo.saving import weights

    before = {name: (preset / name).read_bytes() for name in ("config.json", "metadata.json",
                                                              "model.weights.h5")}
    original = weights.write_variables_file

    def write_then_fail(items, path, description="the model"):
        original(list(items)[:1], path, description)  # a partial file, then a crash
        raise RuntimeError("disk full")

    monkeypatch.setattr(weights, "write_variables_file", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        pm.make_backbone(seed=9).save_to_preset(str(preset))
    assert sorted(os.listdir(preset.parent)) == ["p"]  # no temporary directory left
    for name, data in before.items():
        assert (preset / name).read_bytes() == data
    monkeypatch.undo()
    model = zoo.Model.from_preset(str(preset))
    assert type(model) is pm.TinyClassifier


def test_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    from zoo.hub import saving

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(saving, "_publish", fail)
    with pytest.raises(KeyboardInterrupt):
        pm.make_backbone().save_to_preset(str(tmp_path / "new"))
    assert os.listdir(tmp_path) == []


def test_wrong_class_for_per_class_from_preset(preset, tmp_path):
    with pytest.raises(PresetError, match="declares TinyClassifier, which is not a "
                                          "OtherBackbone"):
        OtherBackbone.from_preset(str(preset))
    backbone_path = str(tmp_path / "b")
    pm.make_backbone().save_to_preset(backbone_path)
    with pytest.raises(PresetError, match="TinyClassifier.from_preset or zoo.Model"):
        OtherBackbone.from_preset(str(preset))
    with pytest.raises(PresetError, match="declares TinyBackbone, which is not a "
                                          "Sequential"):
        zoo.Sequential.from_preset(backbone_path)


def test_weights_of_another_model_are_named(preset, tmp_path):
    other = tmp_path / "other"
    pm.make_backbone(hidden_dim=4).save_to_preset(str(other))
    rewrite(preset, "model.weights.h5", (other / "model.weights.h5").read_bytes())
    with pytest.raises(ValueError, match="mismatch") as info:
        zoo.Model.from_preset(str(preset))
    assert "logits/kernel" in str(info.value)


def test_sharded_index_must_match_shards(tmp_path):
    path = tmp_path / "s"
    pm.make_backbone().save_to_preset(str(path), max_shard_size=400)
    index = json.loads((path / "model.weights.index.json").read_text())
    key = next(iter(index["weight_map"]))
    index["weight_map"][key] = "model.weights-00002-of-00003.h5"
    rewrite(path, "model.weights.index.json", index)
    with pytest.raises(PresetError, match="does not match its shards"):
        zoo.Model.from_preset(str(path))


def test_checksums_are_streamed(tmp_path, monkeypatch):
    big = tmp_path / "big.bin"
    big.write_bytes(np.arange(3 << 20, dtype="uint8").tobytes())
    reads = []
    real_open = open

    class Spy:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            reads.append(n)
            return self.f.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr("builtins.open", lambda *a, **k: Spy(real_open(*a, **k)))
    import hashlib

    digest = fmt.sha256_file(str(big))
    monkeypatch.undo()
    assert digest == hashlib.sha256(big.read_bytes()).hexdigest()
    assert reads and max(reads) == 1 << 20
