"""OPTTokenizer (byte-level BPE) against transformers' GPT2Tokenizer, and its own API."""
import json
import os

import numpy as np
import pytest

from zoo.models import OPTTokenizer
from zoo.saving import serialization
from zoo.tokenizers import BytePairTokenizer

pytestmark = pytest.mark.backend_independent


def expected(references):
    with open(os.path.join(references, "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def make(references):
    return OPTTokenizer(os.path.join(references, "vocab.json"),
                        os.path.join(references, "merges.txt"))


def test_ids_match_transformers(references):
    want = expected(references)
    tokenizer = make(references)
    corpus = want["corpus"]
    got = [tokenizer.tokenize(text) for text in corpus]
    assert tokenizer.tokenize(corpus) == got  # batch == one by one
    assert tokenizer.tokenize(np.array(corpus, dtype=object)) == got
    for text, ids, ref in zip(corpus, got, want["ids"]):
        assert ids == ref, repr(text)
    for text, ids, ref in zip(corpus, got, want["with_special"]):  # transformers adds BOS
        assert [tokenizer.start_token_id] + ids == ref, repr(text)
    for text, ids, decoded in zip(corpus, got, want["decoded"]):
        assert tokenizer.detokenize(ids) == decoded == text, repr(text)  # byte-level: lossless


def test_special_tokens(references):
    want = expected(references)["special_ids"]
    tokenizer = make(references)
    assert (tokenizer.start_token_id, tokenizer.end_token_id) == (want["bos"], want["bos"]) == (2, 2)
    assert tokenizer.pad_token_id == want["pad"] == 1 and tokenizer.unk_token_id == want["unk"] == 3
    assert tokenizer.tokenize("a</s>b")[1] == 2  # matched in the text as one token
    ids = tokenizer.tokenize("hello </s> world")
    assert tokenizer.detokenize(ids, skip_special_tokens=True) == "hello  world"
    assert tokenizer.tokenize("") == []


def test_lookups(references):
    tokenizer = make(references)
    assert tokenizer.token_to_id("</s>") == 2 and tokenizer.id_to_token(1) == "<pad>"
    assert tokenizer.vocabulary_size() == len(tokenizer.get_vocabulary())
    pieces = tokenizer.tokenize_to_strings(" Hello")
    assert "".join(pieces) == "ĠHello"  # GPT-2's byte map: the space is Ġ
    assert tokenizer.detokenize(np.array([[287, 311], [287, 311]])) == ["Hello world"] * 2
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tokenizer.token_to_id("no-such-token")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tokenizer.id_to_token(10**6)
    with pytest.raises(TypeError, match="expected a string"):
        tokenizer.tokenize(3)


def test_config_and_assets_round_trip(references, tmp_path):
    tokenizer = make(references)
    config = tokenizer.get_config()
    assert config == {"add_prefix_space": False}
    revived = serialization.deserialize(json.loads(json.dumps(serialization.serialize(tokenizer))))
    assert isinstance(revived, OPTTokenizer) and revived.get_config() == config
    with pytest.raises(ValueError, match="no vocabulary"):
        revived.tokenize("hello")
    tokenizer.save_assets(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["merges.txt", "vocab.json"]
    assert (tmp_path / "merges.txt").read_text(encoding="utf-8").startswith("#version")
    revived.load_assets(str(tmp_path))
    text = "Hello, World! Café 我爱北京 🍕\n  spaces"
    assert revived.tokenize(text) == tokenizer.tokenize(text)
    assert revived.vocabulary == tokenizer.vocabulary and revived.merges == tokenizer.merges


def test_in_memory_vocabulary_and_prefix_space():
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4, "b": 5, "Ġ": 6, "ab": 7,
             "Ġa": 8, "Ġab": 9}
    merges = ["Ġ a", "a b", ("Ġa", "b")]  # by rank: "Ġ a" first
    tokenizer = OPTTokenizer(vocab, merges)
    assert tokenizer.tokenize("ab ab") == [7, 9]
    assert OPTTokenizer(vocab, merges, add_prefix_space=True).tokenize("ab") == [9]
    # no special tokens: "</s>" is bytes, and bytes outside the vocabulary are dropped (GPT-2)
    assert BytePairTokenizer(vocab, merges).tokenize("ab</s>") == [7]
    assert tokenizer.tokenize("ab</s>") == [7, 2]


def test_bad_inputs(tmp_path):
    vocab = {"<pad>": 1, "</s>": 2, "a": 4, "b": 5, "ab": 7}
    with pytest.raises(ValueError, match="'</s>'"):
        OPTTokenizer({"a": 0, "b": 1, "ab": 2}, ["a b"])
    with pytest.raises(ValueError, match="merge 0"):
        OPTTokenizer(vocab, ["a b c"])
    with pytest.raises(ValueError, match="'bc'"):
        OPTTokenizer({**vocab, "c": 8}, ["b c"])
    with pytest.raises(FileNotFoundError, match="missing.json"):
        OPTTokenizer(str(tmp_path / "missing.json"), ["a b"])
    (tmp_path / "vocab.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="vocab.json"):
        OPTTokenizer(str(tmp_path / "vocab.json"), ["a b"])
    with pytest.raises(TypeError, match="vocabulary"):
        OPTTokenizer(42, ["a b"])
    with pytest.raises(ValueError, match="both"):
        OPTTokenizer(vocab)
