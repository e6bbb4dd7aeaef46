"""Write transformers references for the OPT parity tests into OUT_DIR.

    python tests/models/opt/make_references.py OUT_DIR

Run in its own process (transformers imports torch, which must not share a process with
the backend under test). Writes:
    vocab.json, merges.txt           a tiny byte-level BPE trained here with `tokenizers`
    tokenizer.json                   ids from transformers' GPT2Tokenizer (OPT's settings)
                                     on a hard corpus, without and with special tokens
    <config>/causal_lm/              OPTForCausalLM.save_pretrained (random weights) + the
                                     tokenizer files
    <config>/model/                  the same weights as OPTModel (``decoder.`` keys)
    <config>/reference.npz           inputs (right- and left-padded rows), fp32 logits and
                                     last hidden states
    generate_<config>/               an OPTForCausalLM with room for 32 new tokens, and
                                     generate.npz: left-padded prompts of different lengths
                                     and transformers' greedy ``generate`` (32 new tokens,
                                     stopping at </s>, padding after)
"""
import json
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import GPT2Tokenizer, OPTConfig, OPTForCausalLM, OPTModel

SPECIAL = ["<s>", "<pad>", "</s>", "<unk>"]
VOCAB_SIZE = 420

TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Hello, World. hello there, world of words.",
    "It's a truth universally acknowledged that a single model in possession of weights",
    "must be in want of a tokenizer. Don't you think so? I'll say we've done it.",
    "Numbers: 12345, 3.14159, 2024-01-01, $100.00 and 42%.",
    "Café naïve résumé über Ångström",
    "我爱北京天安门 日本語のテキスト",
    "emoji 🍕🍕 ❤️ 👍",
    "    indented code:\n\tdef f(x):\n\t\treturn x + 1\n",
    "new\nlines\n\nand  double  spaces   here",
] * 3

CORPUS = [
    "Hello world",
    " Hello world",
    "Hello  world   with   spaces ",
    "   ",
    "",
    "The quick brown fox jumps over the lazy dog.",
    "line one\nline two\n\nline four\r\nwindows\ttab",
    "Café naïve résumé über Ångström CAFÉ",
    "Cafe\u0301 with a combining accent",
    "我爱北京天安门, 日本語のテキスト and 中文, 한국어",
    "I ❤️ 🍕 and 👨\u200d👩\u200d👧 emoji! 🤖",
    "don't can't it's we'll they're I'M",
    "1234567890 3.14 -42 1e10",
    "zero\u200bwidth \ufeffbom soft\u00adhyphen\u00a0nbsp\u3000wide",
    "</s>starts and ends</s> with <pad> and <unk> and <s>",
    "a</s>b",
    "supercalifragilisticexpialidocious" * 3,
    "\x00\x07 control characters \x1b[0m",
]

CONFIGS = {
    "prenorm": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "ffn_dim": 64, "max_position_embeddings": 24, "do_layer_norm_before": True},
    "postnorm_proj": {"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 3,
                      "ffn_dim": 37, "max_position_embeddings": 20,
                      "do_layer_norm_before": False, "word_embed_proj_dim": 16},
    "nobias": {"hidden_size": 24, "num_hidden_layers": 1, "num_attention_heads": 2,
               "ffn_dim": 40, "max_position_embeddings": 16, "enable_bias": False},
}
GENERATE_CONFIGS = {
    "generate_prenorm": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                         "ffn_dim": 64, "max_position_embeddings": 48},
    "generate_postnorm_proj": {"hidden_size": 48, "num_hidden_layers": 2,
                               "num_attention_heads": 3, "ffn_dim": 37,
                               "max_position_embeddings": 48, "do_layer_norm_before": False,
                               "word_embed_proj_dim": 16},
}
PROMPT_LENGTHS = [7, 3, 9, 1]  # the start token included
NEW_TOKENS = 32
BATCH, LENGTH = 4, 10
# (left padding, right padding) per row
PADDING = [(0, 0), (0, 3), (4, 0), (2, 1)]
TOKENIZER_CONFIG = {"tokenizer_class": "GPT2Tokenizer", "bos_token": "</s>",
                    "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
                    "add_prefix_space": False, "add_bos_token": True}


def train_tokenizer(out):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=1, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(TRAINING_TEXT, trainer=trainer)
    tokenizer.model.save(out)  # vocab.json + merges.txt
    with open(os.path.join(out, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    assert [vocab[t] for t in SPECIAL] == [0, 1, 2, 3], "special tokens must come first"
    return len(vocab)


def tokenizer_references(out):
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(TOKENIZER_CONFIG, f)
    tok = GPT2Tokenizer.from_pretrained(out)
    results = {
        "corpus": CORPUS,
        "ids": [tok.encode(t, add_special_tokens=False) for t in CORPUS],
        "with_special": [tok(t)["input_ids"] for t in CORPUS],
        "decoded": [tok.decode(tok.encode(t, add_special_tokens=False)) for t in CORPUS],
        "special_ids": {name: tok.convert_tokens_to_ids(t) for name, t in
                        (("bos", "</s>"), ("pad", "<pad>"), ("unk", "<unk>"))},
    }
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)


def randomize(model, seed):
    """Random weights of order 1 (layer norms around 1), so every parameter matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            if "layer_norm.weight" in name:
                param.copy_(1.0 + 0.2 * noise)
            else:
                param.copy_(0.1 * noise)
    model.tie_weights()


def inputs(vocab_size, seed):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(4, vocab_size, (BATCH, LENGTH)).astype(np.int32)
    padding_mask = np.ones((BATCH, LENGTH), np.int32)
    for row, (left, right) in enumerate(PADDING):
        padding_mask[row, :left] = 0
        padding_mask[row, LENGTH - right:] = 0
    token_ids[padding_mask == 0] = 1
    return token_ids, padding_mask


def model_references(out, name, options, vocab_size, seed):
    directory = os.path.join(out, name)
    config = OPTConfig(vocab_size=vocab_size, attn_implementation="eager", **options)
    token_ids, padding_mask = inputs(vocab_size, seed)
    torch.manual_seed(seed)
    model = OPTForCausalLM(config).eval()
    randomize(model, seed)
    model.save_pretrained(os.path.join(directory, "causal_lm"))
    for file in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        with open(os.path.join(out, file), encoding="utf-8") as src, \
                open(os.path.join(directory, "causal_lm", file), "w", encoding="utf-8") as dst:
            dst.write(src.read())
    base = OPTModel(config).eval()
    base.load_state_dict(model.model.state_dict())
    base.save_pretrained(os.path.join(directory, "model"))
    with torch.no_grad():
        result = model(input_ids=torch.tensor(token_ids, dtype=torch.long),
                       attention_mask=torch.tensor(padding_mask, dtype=torch.long),
                       output_hidden_states=True)
        hidden = base(input_ids=torch.tensor(token_ids, dtype=torch.long),
                      attention_mask=torch.tensor(padding_mask, dtype=torch.long))
    np.savez(os.path.join(directory, "reference.npz"), token_ids=token_ids,
             padding_mask=padding_mask, logits=result.logits.numpy(),
             sequence_output=hidden.last_hidden_state.numpy())


def generate_references(out, name, options, vocab_size, seed):
    directory = os.path.join(out, name)
    config = OPTConfig(vocab_size=vocab_size, attn_implementation="eager", pad_token_id=1,
                       bos_token_id=2, eos_token_id=2, **options)
    torch.manual_seed(seed)
    model = OPTForCausalLM(config).eval()
    randomize(model, seed)
    model.save_pretrained(os.path.join(directory, "causal_lm"))
    rng = np.random.default_rng(seed)
    width = max(PROMPT_LENGTHS)
    token_ids = np.ones((len(PROMPT_LENGTHS), width), np.int64)
    padding_mask = np.zeros_like(token_ids)
    for row, length in enumerate(PROMPT_LENGTHS):  # left padding, as generate expects
        token_ids[row, width - length:] = [2, *rng.integers(4, vocab_size, length - 1)]
        padding_mask[row, width - length:] = 1
    with torch.no_grad():
        out_ids = model.generate(input_ids=torch.tensor(token_ids),
                                 attention_mask=torch.tensor(padding_mask),
                                 max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1)
    new = np.ones((len(PROMPT_LENGTHS), NEW_TOKENS), np.int64)  # padded when all stopped early
    made = out_ids[:, width:].numpy()
    new[:, :made.shape[1]] = made
    np.savez(os.path.join(directory, "generate.npz"), token_ids=token_ids.astype(np.int32),
             padding_mask=padding_mask.astype(np.int32), new_tokens=new.astype(np.int32))


def main(out):
    os.makedirs(out, exist_ok=True)
    vocab_size = train_tokenizer(out)
    tokenizer_references(out)
    for i, (name, options) in enumerate(CONFIGS.items()):
        model_references(out, name, options, vocab_size, seed=i + 1)
    for i, (name, options) in enumerate(GENERATE_CONFIGS.items()):
        generate_references(out, name, options, vocab_size, seed=10 + i)


if __name__ == "__main__":
    main(sys.argv[1])
