"""Write transformers references for the BERT parity tests into OUT_DIR.

    python tests/models/bert/make_references.py OUT_DIR

Run in its own process (transformers imports torch, which must not share a process with
the backend under test). Writes:
    vocab.txt                        a generated WordPiece vocabulary (ASCII, accents, CJK)
    tokenizer.json                   ids from transformers' BertTokenizerLegacy (pure
                                     Python) and BertTokenizer (Rust), cased and uncased
    <config>/pretraining/            BertForPreTraining.save_pretrained (random weights)
    <config>/classifier/             BertForSequenceClassification.save_pretrained
    <config>/reference.npz           inputs (with padding) and fp32 outputs
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import BertConfig, BertForPreTraining, BertForSequenceClassification
from transformers.models.bert.tokenization_bert import BertTokenizer
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

CONFIGS = {
    "small": dict(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=24, type_vocab_size=2),
    "odd": dict(vocab_size=131, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
                intermediate_size=37, max_position_embeddings=20, type_vocab_size=3,
                layer_norm_eps=1e-6),
}
NUM_LABELS = 3
BATCH, LENGTH = 3, 12
PADDING = [0, 4, 7]  # padded positions at the end of each row

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "hello", "world", "is", "a", "an", "of", "and", "to", "in", "it", "this", "that", "with", "for", "on", "be", "as", "by", "at", "or", "not", "but", "are", "was", "he", "she", "they", "we", "you", "i", "me", "my", "good", "bad", "movie", "film", "great", "terrible", "love", "hate", "play", "played", "playing", "run", "runner", "un", "want", "wanted", "##s", "##ed", "##ing", "##er", "##able", "##ly", "##est", "##ness", "##'s", "don", "t", "cafe", "café", "naive", "naïve", "resume", "résumé", "angstrom", "ångström", "uber", "über", "##é", "##è", "##ï", "##ö", "The", "Hello", "World", "Café", "CAFE", "CAFÉ", "Über", "Ångström", "Quick", "Fox", "I", "привет", "мир", "Привет", "γεια", "σου", "我", "爱", "北", "京", "天", "安", "门", "日", "本", "語", "中", "文", "の", "한국어", "🍕", "❤", "u", "s", "a", "email", "example", "com", "100", "12", "##3", "##45", "##0", "##00", "abc", "##123", "##def"]

CORPUS = [
    "Hello, World!",
    "The quick brown fox jumps over the lazy dog.",
    "Café naïve résumé Ångström CAFÉ über Über",
    "Cafe\u0301 with a combining accent",
    "我爱北京天安门, 日本語のテキスト and 中文",
    "한국어 text and Привет мир, γεια σου",
    "I ❤ 🍕 and 👨\u200d👩\u200d👧 emoji!",
    "tab\there\nnew line\r\nand\x00null\x07bell",
    "zero\u200bwidth \ufeffbom soft\u00adhyphen\u00a0nbsp\u3000wide space",
    "a" * 150,
    "supercalifragilistic" * 6 + " short words after",
    "",
    "   ",
    "[MASK] is [CLS] a [SEP] token, [mask] is not; [UNK] and [PAD]",
    "don't U.S.A. $100.00 email@example.com a--b ¿Qué? «quoted» abc123def",
    "unwantedly playing runners PLAYED Loving",
    "12345 and 100 and 1200",
]

PAIRS = [
    ("The quick brown fox jumps over the lazy dog again and again",
     "hello world"),
    ("short", "a much longer second segment that needs to be cut down to fit"),
    ("Café naïve résumé über alles " * 3, "我爱北京天安门 " * 4),
    ("", "only the second segment has words in it at all"),
    ("both segments are long enough to need truncation here",
     "and this second one is also long enough to be cut"),
]
LENGTHS = [8, 11, 16, 40]


def vocabulary():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    printable = [chr(c) for c in range(33, 127)]
    tokens += printable + ["##" + c for c in printable if c.isalnum()]
    for word in WORDS:
        if word not in tokens:
            tokens.append(word)
    return tokens


def randomize(model, seed):
    """Random weights of order 1 (layer norms around 1), so every parameter matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            if "LayerNorm.weight" in name:
                param.copy_(1.0 + 0.2 * noise)
            else:
                param.copy_(0.1 * noise)
    model.tie_weights()


def inputs(vocab_size, type_vocab_size, seed):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocab_size, (BATCH, LENGTH)).astype(np.int32)
    segment_ids = np.zeros((BATCH, LENGTH), np.int32)
    padding_mask = np.ones((BATCH, LENGTH), np.int32)
    for row, pad in enumerate(PADDING):
        real = LENGTH - pad
        segment_ids[row, real // 2:real] = min(row, type_vocab_size - 1) or 1
        if pad:
            padding_mask[row, real:] = 0
            token_ids[row, real:] = 0
            segment_ids[row, real:] = 0
    mask_positions = np.array([[1, 3, 5], [2, 4, 0], [1, 2, 3]], np.int32)
    return token_ids, segment_ids, padding_mask, mask_positions


def model_references(out, name, options, seed):
    directory = os.path.join(out, name)
    config = BertConfig(**options, hidden_act="gelu", attn_implementation="eager")
    token_ids, segment_ids, padding_mask, mask_positions = inputs(
        options["vocab_size"], options["type_vocab_size"], seed)
    args = dict(input_ids=torch.tensor(token_ids, dtype=torch.long),
                token_type_ids=torch.tensor(segment_ids, dtype=torch.long),
                attention_mask=torch.tensor(padding_mask, dtype=torch.long))

    torch.manual_seed(seed)
    pretraining = BertForPreTraining(config).eval()
    randomize(pretraining, seed)
    pretraining.save_pretrained(os.path.join(directory, "pretraining"))
    with torch.no_grad():
        base = pretraining.bert(**args)
        mlm = pretraining(**args).prediction_logits.numpy()
    rows = np.arange(BATCH)[:, None]

    classifier_config = BertConfig(**options, hidden_act="gelu", attn_implementation="eager",
                                   num_labels=NUM_LABELS)
    classifier = BertForSequenceClassification(classifier_config).eval()
    randomize(classifier, seed + 1)
    classifier.save_pretrained(os.path.join(directory, "classifier"))
    with torch.no_grad():
        logits = classifier(**args).logits.numpy()

    np.savez(os.path.join(directory, "reference.npz"), token_ids=token_ids,
             segment_ids=segment_ids, padding_mask=padding_mask, mask_positions=mask_positions,
             sequence_output=base.last_hidden_state.numpy(),
             pooled_output=base.pooler_output.numpy(),
             mlm_logits=mlm[rows, mask_positions], classifier_logits=logits)


def tokenizer_references(out):
    vocab_path = os.path.join(out, "vocab.txt")
    with open(vocab_path, "w", encoding="utf-8") as f:
        f.writelines(t + "\n" for t in vocabulary())
    results = {"corpus": CORPUS, "pairs": PAIRS, "lengths": LENGTHS}
    for lowercase in (True, False):
        case = "uncased" if lowercase else "cased"
        legacy = BertTokenizerLegacy(vocab_path, do_lower_case=lowercase)
        fast = BertTokenizer(vocab=vocab_path, do_lower_case=lowercase)
        entry = {}
        for kind, tok in (("legacy", legacy), ("fast", fast)):
            entry[kind] = {
                "ids": [tok.encode(t, add_special_tokens=False) for t in CORPUS],
                "pairs": {str(n): [tok(a, b, truncation="longest_first", max_length=n,
                                       padding="max_length", return_token_type_ids=True)
                                  for a, b in PAIRS]
                          for n in LENGTHS},
                "singles": {str(n): [tok(t, truncation=True, max_length=n,
                                         padding="max_length", return_token_type_ids=True)
                                    for t in CORPUS]
                            for n in LENGTHS},
            }
            for group in ("pairs", "singles"):
                for n, encodings in entry[kind][group].items():
                    entry[kind][group][n] = [
                        {k: list(e[k]) for k in ("input_ids", "token_type_ids",
                                                 "attention_mask")} for e in encodings]
        results[case] = entry
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)


def main(out):
    os.makedirs(out, exist_ok=True)
    tokenizer_references(out)
    for i, (name, options) in enumerate(CONFIGS.items()):
        model_references(out, name, options, seed=i + 1)


if __name__ == "__main__":
    main(sys.argv[1])
