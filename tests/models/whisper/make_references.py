"""Write transformers references for the Whisper parity tests into OUT_DIR.

    python tests/models/whisper/make_references.py OUT_DIR

Run in its own process (transformers imports torch). For each config of CONFIGS, a random
WhisperForConditionalGeneration with large, varied weights (random LayerNorm scales and
biases, so every part matters and greedy output varies) is saved with save_pretrained
(plus a generation_config.json with Whisper's layout of special tokens), into
OUT_DIR/<config>/checkpoint/, and OUT_DIR/<config>/reference.npz holds:

    features (B, frames, mels)                the inputs (frames = 2 * max_source_positions)
    decoder_token_ids / decoder_padding_mask  (B, T), the second row right-padded
    encoder_output, decoder_output, logits    fp32 forward outputs
    encoder_output_f64, decoder_output_f64    the same forward in float64 (the exact value)
    greedy, greedy_timestamps, beam           generate() with 12 new tokens: without and
                                              with timestamps, and 4 beams; (B, new), the
                                              new tokens only (end-padded)
    prompt, prompt_timestamps                 the forced prefixes those used
    detected_language_ids, greedy_detected    multilingual: detect_language's token ids, and
                                              greedy tokens with the language detected
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration

NEW_TOKENS = 12

# vocabulary size -> (end, start of transcript, number of languages)
LAYOUTS = {51864: (50256, 50257, 99), 51865: (50257, 50258, 99), 51866: (50257, 50258, 100)}

CONFIGS = {
    # 128 mels and the v3 vocabulary (large-v3's layout), a French prompt
    "v3_128": dict(vocab_size=51866, num_mel_bins=128, d_model=32, encoder_layers=2,
                   decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=2,
                   encoder_ffn_dim=48, decoder_ffn_dim=48, max_source_positions=40,
                   max_target_positions=64, language="fr"),
    # 80 mels, the English-only vocabulary, 3 encoder and 2 decoder layers
    "en_80": dict(vocab_size=51864, num_mel_bins=80, d_model=24, encoder_layers=3,
                  decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=3,
                  encoder_ffn_dim=40, decoder_ffn_dim=40, max_source_positions=30,
                  max_target_positions=48, language=None),
}


def special_ids(vocab_size):
    end, sot, languages = LAYOUTS[vocab_size]
    translate = sot + 1 + languages
    ids = {"end": end, "sot": sot, "translate": translate, "transcribe": translate + 1,
           "no_timestamps": translate + 5, "languages": list(range(sot + 1, translate))}
    assert ids["no_timestamps"] + 1 + 1501 == vocab_size
    return ids


def generation_config(vocab_size, multilingual):
    ids = special_ids(vocab_size)
    codes = ["en", "zh", "de", "es", "ru", "ko", "fr"]  # the first 7 of Whisper's order
    config = GenerationConfig(
        decoder_start_token_id=ids["sot"], eos_token_id=ids["end"], pad_token_id=ids["end"],
        bos_token_id=ids["end"], max_length=448,
        suppress_tokens=[1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63,
                         90, 91, 92, 93, 357, 366, 438, 532, 685, 705, 796, 930, 1058, 1220],
        begin_suppress_tokens=[220, ids["end"]], no_timestamps_token_id=ids["no_timestamps"],
        max_initial_timestamp_index=50, is_multilingual=multilingual,
        alignment_heads=[[1, 0], [1, 1]])
    if multilingual:
        config.lang_to_id = {f"<|{c}|>": ids["languages"][i] for i, c in enumerate(codes)}
        config.task_to_id = {"transcribe": ids["transcribe"], "translate": ids["translate"]}
    return config


def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "embed_positions" in name and "encoder" in name:
                continue  # the fixed sinusoids
            if "layer_norm" in name and name.endswith("weight"):
                values = 1.0 + 0.3 * torch.randn(parameter.shape, generator=generator)
            elif name.endswith("bias"):
                values = 0.2 * torch.randn(parameter.shape, generator=generator)
            elif "embed" in name:
                values = 0.3 * torch.randn(parameter.shape, generator=generator)
            else:
                values = torch.randn(parameter.shape, generator=generator) \
                    * (3.0 / parameter.shape[-1] ** 0.5)
            parameter.copy_(values)


def make(out_dir, name, spec, seed):
    spec = dict(spec)
    language = spec.pop("language")
    config = WhisperConfig(**spec, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                           pad_token_id=LAYOUTS[spec["vocab_size"]][0])
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    randomize(model, seed)
    multilingual = spec["vocab_size"] != 51864
    model.generation_config = generation_config(spec["vocab_size"], multilingual)
    directory = os.path.join(out_dir, name)
    model.save_pretrained(os.path.join(directory, "checkpoint"))

    rng = np.random.default_rng(seed)
    frames = 2 * spec["max_source_positions"]
    features = rng.normal(size=(2, spec["num_mel_bins"], frames)).astype(np.float32)
    ids = special_ids(spec["vocab_size"])
    decoder_ids = rng.integers(0, ids["end"], size=(2, 7)).astype(np.int64)
    decoder_ids[:, 0] = ids["sot"]
    mask = np.ones_like(decoder_ids)
    mask[1, 5:] = 0
    with torch.no_grad():
        out = model(input_features=torch.from_numpy(features),
                    decoder_input_ids=torch.from_numpy(decoder_ids),
                    decoder_attention_mask=torch.from_numpy(mask),
                    output_hidden_states=True)
    arrays = {"features": features.transpose(0, 2, 1).copy(),
              "decoder_token_ids": decoder_ids.astype(np.int32),
              "decoder_padding_mask": mask.astype(np.int32),
              "encoder_output": out.encoder_last_hidden_state.numpy(),
              "decoder_output": out.decoder_hidden_states[-1].numpy(),
              "logits": out.logits.numpy()}
    with torch.no_grad():  # the exact result, to measure what fp32 rounding costs
        out64 = model.double()(input_features=torch.from_numpy(features).double(),
                               decoder_input_ids=torch.from_numpy(decoder_ids),
                               decoder_attention_mask=torch.from_numpy(mask),
                               output_hidden_states=True)
        model.float()
    arrays["encoder_output_f64"] = out64.encoder_last_hidden_state.numpy()
    arrays["decoder_output_f64"] = out64.decoder_hidden_states[-1].numpy()
    kwargs = {"language": language} if language else {}
    prompt = [ids["sot"]]
    if multilingual:
        prompt += [model.generation_config.lang_to_id[f"<|{language}|>"], ids["transcribe"]]
    with torch.no_grad():
        for key, extra in (("greedy", {}), ("greedy_timestamps", {"return_timestamps": True}),
                           ("beam", {"num_beams": 4})):
            out = model.generate(torch.from_numpy(features), max_new_tokens=NEW_TOKENS,
                                 do_sample=False, return_dict_in_generate=True, **kwargs,
                                 **extra)
            if "segments" in out:  # with timestamps: the raw tokens, before segmenting
                rows = [segments[0]["result"]["sequences"] for segments in out["segments"]]
                prompt_length = len(rows[0]) - NEW_TOKENS
                tokens = torch.stack([row[prompt_length:] for row in rows])
            else:  # the forced prefix, then the new tokens
                tokens = out["sequences"][:, len(prompt) + 1:]
            arrays[key] = tokens.numpy().astype(np.int32)
    if multilingual:  # the language detected, and greedy decoding after detecting it
        with torch.no_grad():
            arrays["detected_language_ids"] = model.detect_language(
                torch.from_numpy(features)).numpy().reshape(-1).astype(np.int32)
            out = model.generate(torch.from_numpy(features), max_new_tokens=NEW_TOKENS,
                                 do_sample=False, return_dict_in_generate=True,
                                 task="transcribe")
            arrays["greedy_detected"] = out["sequences"][:, len(prompt) + 1:].numpy().astype(
                np.int32)
    arrays["prompt_timestamps"] = np.asarray(prompt, np.int32)
    arrays["prompt"] = np.asarray(prompt + [ids["no_timestamps"]], np.int32)
    np.savez(os.path.join(directory, "reference.npz"), **arrays)
    with open(os.path.join(directory, "spec.json"), "w") as f:
        json.dump({"language": language, "multilingual": multilingual, **spec}, f)


def main(out_dir):
    for seed, (name, spec) in enumerate(CONFIGS.items()):
        make(out_dir, name, spec, seed + 1)


if __name__ == "__main__":
    main(sys.argv[1])
