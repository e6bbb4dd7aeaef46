"""openai-whisper references for the ``.pt`` loader's tests: random models saved as
openai-whisper saves its checkpoints, and their own forward passes.

    python tests/models/whisper/make_openai_references.py OUT_DIR

Runs in its own process (tests/references.py) with the numba stand-in on its path
(openai-whisper imports numba for word timings only). For each config writes
OUT_DIR/<name>/:
    model.pt         torch.save({"dims": dims, "model_state_dict": state_dict}), as the
                     published checkpoints (tiny.en.pt, ...) are
    reference.npz    mel (B, frames, mels) in zoo's layout, tokens (B, T), openai-whisper's
                     encoder output (B, frames // 2, H) and decoder logits (B, T, V)
    decoding.json    openai-whisper's default decoding data for the model's vocabulary:
                     suppress_tokens ("-1": its DecodingTask's rule) and the tokens
                     suppressed at the start (" " and the end token)
and OUT_DIR/unsafe.pt: the same structure plus an object of a class of this script,
which ``torch.load(weights_only=True)`` must refuse to unpickle.
"""
import dataclasses
import json
import os
import sys

import numpy as np
import torch
from whisper.model import ModelDimensions, Whisper
from whisper.tokenizer import get_tokenizer

CONFIGS = {
    # the English vocabulary, one layer each
    "english_80": dict(n_mels=80, n_vocab=51864, n_audio_ctx=20, n_audio_state=16,
                       n_audio_head=2, n_audio_layer=1, n_text_ctx=12, n_text_state=16,
                       n_text_head=2, n_text_layer=1),
    # multilingual vocabulary, 80 mels, 2 encoder / 3 decoder layers
    "multilingual_80": dict(n_mels=80, n_vocab=51865, n_audio_ctx=50, n_audio_state=32,
                            n_audio_head=4, n_audio_layer=2, n_text_ctx=24, n_text_state=32,
                            n_text_head=4, n_text_layer=3),
    # large-v3's vocabulary and 128 mels, different head counts
    "v3_128": dict(n_mels=128, n_vocab=51866, n_audio_ctx=30, n_audio_state=24,
                   n_audio_head=2, n_audio_layer=3, n_text_ctx=16, n_text_state=24,
                   n_text_head=3, n_text_layer=2),
}
INIT_STDDEV = 0.3  # well above the default init, so outputs (and their errors) are large


class Payload:
    """Not a tensor or a plain container: weights_only unpickling refuses it."""

    def __reduce__(self):
        return (print, ("this ran while unpickling",))


def make(out_dir, name, dims):
    torch.manual_seed(len(name))
    model = Whisper(ModelDimensions(**dims)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, INIT_STDDEV)
    rng = np.random.default_rng(0)
    mel = rng.normal(size=(2, dims["n_mels"], 2 * dims["n_audio_ctx"])).astype(np.float32)
    tokens = rng.integers(0, dims["n_vocab"], (2, dims["n_text_ctx"] - 3)).astype(np.int64)
    with torch.no_grad():
        encoded = model.encoder(torch.from_numpy(mel))
        logits = model.decoder(torch.from_numpy(tokens), encoded)
    directory = os.path.join(out_dir, name)
    os.makedirs(directory)
    torch.save({"dims": dataclasses.asdict(model.dims), "model_state_dict": model.state_dict()},
               os.path.join(directory, "model.pt"))
    np.savez(os.path.join(directory, "reference.npz"), mel=mel.transpose(0, 2, 1),
             tokens=tokens.astype(np.int32), encoder=encoded.numpy(), logits=logits.numpy())
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages)
    suppress = list(tokenizer.non_speech_tokens) + [
        tokenizer.transcribe, tokenizer.translate, tokenizer.sot, tokenizer.sot_prev,
        tokenizer.sot_lm] + ([tokenizer.no_speech] if tokenizer.no_speech is not None else [])
    with open(os.path.join(directory, "decoding.json"), "w") as f:
        json.dump({"suppress_tokens": sorted(set(suppress)),
                   "begin_suppress_tokens": tokenizer.encode(" ") + [tokenizer.eot],
                   "no_timestamps_token_id": tokenizer.no_timestamps,
                   "lang_to_id": {f"<|{code}|>": i for code, i in zip(
                       tokenizer.all_language_codes, tokenizer.all_language_tokens)}
                   if model.is_multilingual else None}, f)
    return model


def main(out_dir):
    model = None
    for name, dims in CONFIGS.items():
        model = make(out_dir, name, dims)
    torch.save({"dims": dataclasses.asdict(model.dims), "model_state_dict": model.state_dict(),
                "payload": Payload()}, os.path.join(out_dir, "unsafe.pt"))


if __name__ == "__main__":
    main(sys.argv[1])
