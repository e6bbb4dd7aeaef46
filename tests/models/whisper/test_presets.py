"""A Whisper task preset round trip (save_to_preset -> from_preset here and on every
backend in fresh processes), and the same preset through the speech pipeline and
`zoo run`."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.models.helpers import run_preset_test
from zoo import cli
from zoo.models import (WhisperAudioConverter, WhisperBackbone, WhisperPreprocessor,
                        WhisperSpeechToText, WhisperTokenizer)

SPEECH = os.path.join(os.path.dirname(__file__), "..", "..", "data", "speech")
CLIP = os.path.join(SPEECH, "fox.flac")


def tiny_speech_to_text(seed=0):
    """A random English-only Whisper on 80-mel, 30 s features (hidden 8), with its real
    tokenizer and audio converter."""
    zoo.config.set_random_seed(seed)
    tokenizer = WhisperTokenizer.for_vocabulary_size(51864)
    backbone = WhisperBackbone(vocabulary_size=51864, num_layers=1, num_heads=2, hidden_dim=8,
                               intermediate_dim=16, num_mels=80, max_decoder_sequence_length=24)
    preprocessor = WhisperPreprocessor(WhisperAudioConverter(num_mels=80), tokenizer)
    return WhisperSpeechToText(backbone, preprocessor=preprocessor, generation_config={
        "suppress_tokens": [1, 2, 7], "begin_suppress_tokens": [220, 50256]})


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    model = tiny_speech_to_text()
    directory = tmp_path_factory.mktemp("whisper_preset")
    features = model.preprocessor.features(CLIP)
    inputs = {"encoder_features": features,
              "decoder_token_ids": np.asarray([[50257, 50362, 440, 2068]], np.int32),
              "decoder_padding_mask": np.ones((1, 4), np.int32)}
    loaded = run_preset_test(model, inputs, directory, raw_inputs=[CLIP])
    assert loaded.generation_config == model.generation_config
    return os.path.join(directory, "preset"), model


def test_preset_round_trip_generates_the_same_text(preset):
    path, model = preset
    loaded = zoo.Model.from_preset(path)
    assert isinstance(loaded, WhisperSpeechToText)
    want = model.generate(CLIP, max_new_tokens=6)
    assert isinstance(want, str)
    assert loaded.generate(CLIP, max_new_tokens=6) == want


def test_speech_pipeline(preset):
    import soundfile

    path, model = preset
    asr = zoo.pipeline("automatic-speech-recognition", preset=path)
    want = model.generate(CLIP, max_new_tokens=6)
    assert asr(CLIP, max_new_tokens=6) == {"text": want}
    wave, rate = soundfile.read(CLIP, dtype="float32")
    assert asr({"raw": wave, "sampling_rate": rate}, max_new_tokens=6) == {"text": want}
    assert asr(wave, max_new_tokens=6) == {"text": want}  # a bare array: 16 kHz
    both = asr([CLIP, os.path.join(SPEECH, "alice.flac")], max_new_tokens=6)
    assert both[0] == {"text": want} and len(both) == 2
    timed = asr(CLIP, return_timestamps=True, max_new_tokens=6)
    assert set(timed) == {"text", "chunks"}
    for chunk in timed["chunks"]:
        start, end = chunk["timestamp"]
        assert start is None or 0 <= start <= 30
        assert isinstance(chunk["text"], str)


def test_zoo_run_speech(preset, capsys):
    path, model = preset
    code = cli.main(["run", "automatic-speech-recognition", "--preset", path, CLIP,
                     "-o", "max_new_tokens=6"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    line = json.loads(out[-1])
    assert line["output"] == {"text": model.generate(CLIP, max_new_tokens=6)}


def test_bfloat16(preset):
    path, model = preset
    half = zoo.Model.from_preset(path, dtype="bfloat16")
    assert all(v.dtype == "bfloat16" for v in half.backbone.weights)
    text = half.generate(CLIP, max_new_tokens=4)
    assert isinstance(text, str)
    features = model.preprocessor.features(CLIP)
    inputs = {"encoder_features": features, "decoder_token_ids": np.asarray([[50257, 50362]],
                                                                            np.int32),
              "decoder_padding_mask": np.ones((1, 2), np.int32)}
    from tests.testing import to_numpy
    want = to_numpy(model(inputs)).astype(np.float32)
    got = to_numpy(half(inputs)).astype(np.float32)
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max() + 0.05


def test_bad_requests_name_what_is_wrong(preset):
    _, model = preset
    with pytest.raises(ValueError, match="English-only"):
        model.generate(CLIP, task="translate")
    with pytest.raises(ValueError, match="language='fr'"):
        model.generate(CLIP, language="fr")
    with pytest.raises(ValueError, match="task must be one of"):
        model.generate(CLIP, task="summarize")
    long = np.zeros((31 * 16000,), np.float32)
    with pytest.raises(ValueError, match=r"31\.00 s long.*long-form transcription"):
        model.generate(long)
    with pytest.raises(ValueError, match="English-only"):
        model.detect_language(CLIP)


def test_unknown_language_lists_the_valid_codes():
    tokenizer = WhisperTokenizer.for_vocabulary_size(51865)
    preprocessor = WhisperPreprocessor(WhisperAudioConverter(), tokenizer)
    with pytest.raises(ValueError, match="language 'xx'.*codes.*en, zh, de"):
        preprocessor.prompt_ids("xx")
