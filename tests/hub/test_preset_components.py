"""Preprocessors for any input: a preprocessor holds a tokenizer, an audio converter and/or
an image converter, each saved as <kind>.json + assets/<kind>/ (preset format 2); the
preprocessor decides which raw inputs it takes. Presets of format 1 (tokenizer only) load."""
import json
import os
import shutil

import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm
from zoo.hub import preset_format as fmt
from zoo.models import AudioConverter, ImageConverter, Preprocessor
from zoo.saving import register_serializable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@register_serializable(package="zoo_tests")
class TinyAudioConverter(AudioConverter):
    """Waveform -> token ids: each sample's level in ``bins`` (a list saved as an asset)."""

    def __init__(self, scale=1.0):
        self.scale = scale
        self.bins = None

    def get_config(self):
        return {"scale": self.scale}

    def save_assets(self, directory):
        with open(os.path.join(directory, "bins.json"), "w") as f:
            json.dump(self.bins, f)

    def load_assets(self, directory):
        with open(os.path.join(directory, "bins.json")) as f:
            self.bins = json.load(f)

    def __call__(self, waveforms):
        levels = np.digitize(np.asarray(waveforms, "float32") * self.scale, self.bins)
        return (levels + 1).astype("int32")  # ids 1..len(bins)+1


@register_serializable(package="zoo_tests")
class TinyImageConverter(ImageConverter):
    def __init__(self, size=4):
        self.size = size

    def get_config(self):
        return {"size": self.size}


@register_serializable(package="zoo_tests")
class TinyMultiPreprocessor(Preprocessor):
    tokenizer_cls = pm.TinyTokenizer
    audio_converter_cls = TinyAudioConverter
    image_converter_cls = TinyImageConverter

    def __init__(self, tokenizer=None, audio_converter=None, image_converter=None,
                 sequence_length=6):
        self.tokenizer, self.audio_converter = tokenizer, audio_converter
        self.image_converter = image_converter
        self.sequence_length = sequence_length

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length}

    def __call__(self, x, y=None, sample_weight=None):
        if self.tokenizer is not None and self.tokenizer.accepts(x):
            x = pm.TinyPreprocessor(self.tokenizer, self.sequence_length)(list(x))
        else:
            x = self.audio_converter(x)
        return x if y is None and sample_weight is None else (x, y, sample_weight)


@register_serializable(package="zoo_tests")
class TinyAudioClassifier(pm.TinyClassifier):
    preprocessor_cls = TinyMultiPreprocessor

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        pre = config.pop("preprocessor", None)
        task = super().from_config(config)
        if pre is not None:
            task.preprocessor = zoo.saving.deserialize(pre)
        return task


def audio_converter():
    converter = TinyAudioConverter(scale=2.0)
    converter.bins = [-0.5, 0.0, 0.5]
    return converter


def multi_preprocessor(with_tokenizer=True):
    return TinyMultiPreprocessor(pm.TinyTokenizer(pm.VOCAB) if with_tokenizer else None,
                                 audio_converter(), TinyImageConverter(size=3))


def test_every_component_is_saved_as_its_kind_and_loads_back(tmp_path):
    task = pm.fill(TinyAudioClassifier(pm.TinyBackbone(name="tiny_backbone"),
                                       multi_preprocessor(), num_classes=2, name="audio"))
    path = str(tmp_path / "p")
    task.save_to_preset(path)
    metadata = json.load(open(os.path.join(path, "metadata.json")))
    assert metadata["format_version"] == fmt.FORMAT_VERSION == 2
    assert metadata["components"] == {kind: fmt.component_layout(kind) for kind in
                                      ("tokenizer", "audio_converter", "image_converter")}
    assert {"tokenizer.json", "audio_converter.json", "image_converter.json",
            "assets/tokenizer/vocab.txt", "assets/audio_converter/bins.json",
            "preprocessor.json"} <= set(metadata["files"])
    pre_config = json.load(open(os.path.join(path, "preprocessor.json")))["config"]
    assert pre_config == {"sequence_length": 6}  # the components are saved on their own
    loaded = zoo.Model.from_preset(path)
    pre = loaded.preprocessor
    assert type(pre) is TinyMultiPreprocessor and pre.tokenizer.vocabulary == pm.VOCAB
    assert pre.audio_converter.bins == [-0.5, 0.0, 0.5] and pre.audio_converter.scale == 2.0
    assert pre.image_converter.size == 3
    converter = TinyAudioConverter.from_preset(path, scale=3.0)
    assert converter.scale == 3.0 and converter.bins == [-0.5, 0.0, 0.5]
    assert type(Preprocessor.from_preset(path)) is TinyMultiPreprocessor


def test_the_preprocessor_decides_which_raw_inputs_it_takes():
    text_and_audio = multi_preprocessor()
    audio_only = multi_preprocessor(with_tokenizer=False)
    waveforms = np.linspace(-1, 1, 12, dtype="float32").reshape(2, 6)
    assert text_and_audio.accepts_raw(["a cat"]) and text_and_audio.accepts_raw(waveforms)
    assert not audio_only.accepts_raw(["a cat"]) and audio_only.accepts_raw(waveforms)
    assert audio_only.accepts_raw([waveforms[0], waveforms[1, :3]])  # different lengths
    assert audio_only.accepts_raw("clip.wav") and not audio_only.accepts_raw("a cat")
    assert text_and_audio.accepts_raw(np.zeros((2, 4, 4, 3), "uint8"))  # images
    assert not text_and_audio.accepts_raw({"token_ids": pm.TOKENS})
    assert not text_and_audio.accepts_raw(pm.TOKENS)  # already token ids
    task = pm.fill(TinyAudioClassifier(pm.TinyBackbone(name="tiny_backbone"), audio_only,
                                       num_classes=2))
    direct = pm.to_numpy(task(audio_only(waveforms)))
    np.testing.assert_allclose(task.predict(waveforms, verbose=0), direct, atol=1e-6)
    np.testing.assert_allclose(task.predict(audio_only(waveforms), verbose=0), direct,
                               atol=1e-6)  # model inputs pass through


def format_1(path):
    """Rewrite a saved preset's metadata as format 1 wrote it (no components table)."""
    metadata = json.loads((path / "metadata.json").read_text())
    metadata["format_version"] = 1
    del metadata["components"]
    (path / "metadata.json").write_text(json.dumps(metadata))


def test_a_format_1_preset_still_loads(tmp_path):
    path = tmp_path / "old"
    model = pm.make_classifier(seed=6)
    model.save_to_preset(str(path))
    format_1(path)
    loaded = zoo.Model.from_preset(str(path))
    assert loaded.preprocessor.tokenizer.vocabulary == pm.VOCAB
    x = model.preprocessor(pm.TEXTS)
    np.testing.assert_array_equal(pm.to_numpy(loaded(x)), pm.to_numpy(model(x)))
    assert pm.TinyTokenizer.from_preset(str(path)).vocabulary == pm.VOCAB
    assert fmt.Preset(str(path)).components == {"tokenizer": fmt.component_layout("tokenizer")}
    loaded.save_to_preset(str(tmp_path / "new"))  # saved again: format 2
    assert json.loads((tmp_path / "new" / "metadata.json").read_text())["format_version"] == 2


def test_the_shipped_format_1_demo_preset_loads(tmp_path):
    demo = os.path.join(ROOT, "presets", "bert_tiny_en_uncased_demo")
    metadata = json.load(open(os.path.join(demo, "metadata.json")))
    assert metadata["format_version"] == 1 and "components" not in metadata
    copy = str(tmp_path / "demo")
    shutil.copytree(demo, copy)
    model = zoo.Model.from_preset(copy)
    assert type(model).__name__ == "BertMaskedLM"
    assert model.preprocessor.tokenizer.tokenize("hello world")
    x, _, _ = model.preprocessor(["the cat sat on the mat"])
    assert pm.to_numpy(model(x)).shape[0] == 1


def test_a_bad_components_table_is_refused(tmp_path):
    path = tmp_path / "p"
    pm.make_classifier().save_to_preset(str(path))
    metadata = json.loads((path / "metadata.json").read_text())
    metadata["components"]["tokenizer"]["config"] = "elsewhere.json"
    (path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(fmt.PresetError, match="bad component entry 'tokenizer'"):
        zoo.Model.from_preset(str(path))
