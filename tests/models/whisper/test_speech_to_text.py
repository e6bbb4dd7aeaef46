"""WhisperSpeechToText against transformers' WhisperForConditionalGeneration on random
checkpoints its save_pretrained wrote: logits, and generate() token for token (greedy,
greedy with timestamps, 4 beams)."""
from types import SimpleNamespace

import numpy as np
import pytest

from tests.models.whisper.conftest import CONFIGS, load_reference
from tests.models.whisper.test_backbone import _converted
from tests.testing import to_numpy
from zoo.generation import samplers
from zoo.models.whisper.convert import generation_options
from zoo.models.whisper.preprocessor import WhisperPreprocessor
from zoo.models.whisper.speech_to_text import WhisperSpeechToText

NEW = 12
_MODELS = {}


def special_ids(vocabulary_size):
    """The ids the token path of generate needs (the vocabularies' layouts; the tokenizer
    tests check WhisperTokenizer has them)."""
    end = 50256 if vocabulary_size == 51864 else 50257
    no_timestamps = vocabulary_size - 1502
    return SimpleNamespace(end_token_id=end, no_timestamps_id=no_timestamps,
                           timestamp_begin_id=no_timestamps + 1,
                           is_multilingual=vocabulary_size != 51864)


def model_and_reference(references, name):
    checkpoint, spec, ref = load_reference(references, name)
    if name not in _MODELS:
        preprocessor = WhisperPreprocessor(tokenizer=special_ids(spec["vocab_size"]))
        _MODELS[name] = WhisperSpeechToText(_converted(checkpoint), preprocessor=preprocessor,
                                            **generation_options(checkpoint))
    return _MODELS[name], ref


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_match_transformers(references, name):
    model, ref = model_and_reference(references, name)
    logits = to_numpy(model({"encoder_features": ref["features"],
                             "decoder_token_ids": ref["decoder_token_ids"],
                             "decoder_padding_mask": ref["decoder_padding_mask"]}))
    keep = ref["decoder_padding_mask"].astype(bool)
    np.testing.assert_allclose(logits[keep], ref["logits"][keep], atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("mode", ["greedy", "greedy_timestamps", "beam"])
def test_generate_matches_transformers(references, name, mode):
    model, ref = model_and_reference(references, name)
    prompt = ref["prompt_timestamps" if mode == "greedy_timestamps" else "prompt"]
    out = model.generate({"encoder_features": ref["features"], "decoder_token_ids": prompt},
                         max_new_tokens=NEW, return_timestamps=mode == "greedy_timestamps",
                         sampler=samplers.BeamSampler(num_beams=4) if mode == "beam"
                         else "greedy")
    new = out["decoder_token_ids"][:, len(prompt):]
    want = ref[mode]
    assert new.shape == want.shape, (new.shape, want.shape)
    np.testing.assert_array_equal(new, want)


def test_language_detection_matches_transformers(references):
    from zoo.models.whisper.tokenizer import WhisperTokenizer

    checkpoint, spec, ref = load_reference(references, "v3_128")
    model, _ = model_and_reference(references, "v3_128")
    tokenizer = WhisperTokenizer.for_vocabulary_size(spec["vocab_size"])
    model.preprocessor = WhisperPreprocessor(tokenizer=tokenizer)
    try:
        found = model.detect_language({"encoder_features": ref["features"]})
        codes = {i: c for c, i in tokenizer.language_ids.items()}
        assert [code for code, _ in found] == [codes[i] for i in ref["detected_language_ids"]]
        for code, probabilities in found:
            assert abs(sum(probabilities.values()) - 1) < 1e-6
            assert max(probabilities, key=probabilities.get) == code
        out = model.generate({"encoder_features": ref["features"]}, max_new_tokens=NEW)
        np.testing.assert_array_equal(out["decoder_token_ids"][:, 4:], ref["greedy_detected"])
    finally:
        model.preprocessor = WhisperPreprocessor(tokenizer=special_ids(spec["vocab_size"]))
