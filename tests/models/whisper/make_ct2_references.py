"""CTranslate2's own outputs for a CTranslate2 Whisper checkpoint, for the loader's tests.

    python tests/models/whisper/make_ct2_references.py OUT_DIR MODEL_DIR

Runs in its own process (tests/references.py). Loads MODEL_DIR with
``ctranslate2.models.Whisper`` (compute type float32: float16 weights upcast, as zoo
loads them) and writes OUT_DIR/ct2.npz:
    features      (2, 3000, mels) float32, zoo's layout (CTranslate2 takes (B, mels, 3000))
    encoder       (2, 1500, H) ctranslate2 ``encode``
    prompt        the forced prefix (<|startoftranscript|>, <|notimestamps|>)
    tokens_<b>    row b: prompt + greedy tokens (no suppression), without the end token
    logits_<b>    row b: the raw logits CTranslate2 chose each token from (steps, V)
"""
import os
import sys

import ctranslate2
import numpy as np


def features(mels, seed=0):
    """Log-mel-like features in the audio converter's range ((log10 + 4) / 4, about
    -1.5..1.5): smooth in time and frequency, plus noise, so the encoder sees structure."""
    rng = np.random.default_rng(seed)
    frames = np.arange(3000)[None, :, None]
    bins = np.arange(mels)[None, None, :]
    phase = rng.uniform(0, 2 * np.pi, (2, 1, 1))
    base = 0.6 * np.sin(frames / 37.0 + bins / 9.0 + phase) * np.cos(frames / 211.0)
    return (base + 0.3 * rng.standard_normal((2, 3000, mels)) - 0.2).astype(np.float32)


def main(out_dir, model_dir):
    model = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type="float32")
    x = features(model.n_mels)
    storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(x.transpose(0, 2, 1)))
    encoded = np.array(model.encode(storage))
    vocabulary = open(os.path.join(model_dir, "vocabulary.txt"), encoding="utf-8").read()
    ids = {token: i for i, token in enumerate(vocabulary.split("\n"))}
    prompt = [ids["<|startoftranscript|>"], ids["<|notimestamps|>"]]
    results = model.generate(storage, [prompt] * 2, beam_size=1, max_length=16,
                             return_logits_vocab=True, suppress_blank=False,
                             suppress_tokens=[])
    arrays = {"features": x, "encoder": encoded, "prompt": np.asarray(prompt, np.int32)}
    for b, result in enumerate(results):
        arrays[f"tokens_{b}"] = np.asarray(prompt + result.sequences_ids[0], np.int32)
        arrays[f"logits_{b}"] = np.stack([np.array(step) for step in result.logits[0]])
    np.savez(os.path.join(out_dir, "ct2.npz"), **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:3])
