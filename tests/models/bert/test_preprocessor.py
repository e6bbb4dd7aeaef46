"""BertPreprocessor packing and truncation (against transformers), and MLM masking."""
import json
import os

import numpy as np
import pytest

from tests.models.bert.test_tokenizer import LEGACY_ONLY_NFC, load, make
from zoo.models import BertMaskedLMPreprocessor, BertPreprocessor, BertTokenizer
from zoo.models.bert.preprocessor import allot
from zoo.saving import serialization


def as_hf(packed):
    return [{"input_ids": list(t), "token_type_ids": list(s), "attention_mask": list(m)}
            for t, s, m in zip(packed["token_ids"].tolist(), packed["segment_ids"].tolist(),
                               packed["padding_mask"].tolist())]


@pytest.mark.parametrize("case", ["uncased", "cased"])
def test_pairs_and_singles_match_transformers(references, case):
    expected = load(references)
    tokenizer = make(references, case)
    pairs = [tuple(p) for p in expected["pairs"]]
    # round_robin cuts as the Python BertTokenizer does, longest_first as the Rust one
    for truncate, kind in (("round_robin", "legacy"), ("longest_first", "fast")):
        for length in expected["lengths"]:
            preprocessor = BertPreprocessor(tokenizer, sequence_length=length, truncate=truncate)
            want = expected[case][kind]["pairs"][str(length)]
            assert as_hf(preprocessor(pairs)) == want, f"{truncate} {length}"
            firsts, seconds = zip(*pairs)
            assert as_hf(preprocessor((list(firsts), list(seconds)))) == want
    for length in expected["lengths"]:
        packed = BertPreprocessor(tokenizer, sequence_length=length)(expected["corpus"])
        got = as_hf(packed)
        for text, row, fast, legacy in zip(expected["corpus"], got,
                                           expected[case]["fast"]["singles"][str(length)],
                                           expected[case]["legacy"]["singles"][str(length)]):
            assert row == fast, f"{length} {text!r}"
            if (case, text) not in LEGACY_ONLY_NFC:
                assert row == legacy, f"{length} {text!r} (legacy)"


def test_layout_and_input_forms(references):
    tokenizer = make(references, "uncased")
    preprocessor = BertPreprocessor(tokenizer, sequence_length=10)
    one = preprocessor(("the fox", "hello"))
    the, fox, hello = (tokenizer.token_to_id(t) for t in ("the", "fox", "hello"))
    assert one["token_ids"].tolist() == [2, the, fox, 3, hello, 3, 0, 0, 0, 0]
    assert one["segment_ids"].tolist() == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert one["padding_mask"].tolist() == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert all(v.dtype == np.int32 and v.shape == (10,) for v in one.values())
    batch = preprocessor(np.array(["the fox", b"hello"], dtype=object))
    assert batch["token_ids"].shape == (2, 10)
    assert preprocessor("the fox")["token_ids"].tolist() == batch["token_ids"][0].tolist()
    x, y = preprocessor(["a", "b"], np.array([0, 1]))
    assert x["token_ids"].shape == (2, 10) and y.tolist() == [0, 1]
    x, y, w = preprocessor(["a"], [1], [0.5])
    assert w == [0.5]
    with pytest.raises(TypeError, match="expected a string"):
        preprocessor(3)
    with pytest.raises(ValueError, match="different batch sizes"):
        preprocessor((["a", "b"], ["c"]))
    with pytest.raises(ValueError, match="too short"):
        BertPreprocessor(tokenizer, sequence_length=2)(("a", "b"))
    with pytest.raises(ValueError, match="truncate"):
        BertPreprocessor(tokenizer, truncate="middle_out")


def test_allot():
    assert allot([3, 14], 5, "round_robin") == [3, 2]
    assert allot([3, 14], 5, "longest_first") == [2, 3]
    assert allot([14, 3], 5, "longest_first") == [3, 2]
    assert allot([2, 14], 5, "longest_first") == [2, 3]
    assert allot([10, 10], 7, "round_robin") == [4, 3]
    assert allot([10, 10], 7, "longest_first") == [3, 4]
    assert allot([10, 10], 7, "waterfall") == [7, 0]
    assert allot([2, 10, 1], 7, "round_robin") == [2, 4, 1]
    assert allot([1, 2], 7, "round_robin") == [1, 2]


def test_config_round_trip(references):
    tokenizer = make(references, "uncased")
    preprocessor = BertPreprocessor(tokenizer, sequence_length=16, truncate="waterfall")
    config = preprocessor.get_config()
    assert json.loads(json.dumps(config)) == config
    revived = serialization.deserialize(json.loads(json.dumps(
        serialization.serialize(preprocessor))))
    assert type(revived) is BertPreprocessor and revived.get_config() == config
    assert isinstance(revived.tokenizer, BertTokenizer)
    revived.load_assets(os.path.dirname(tokenizer_path(references)))
    text = ("the quick brown fox", "jumps over")
    for key, value in preprocessor(text).items():
        np.testing.assert_array_equal(revived(text)[key], value)


def tokenizer_path(references):
    return os.path.join(references, "vocab.txt")


def test_masked_lm_preprocessor(references):
    tokenizer = make(references, "uncased")
    preprocessor = BertMaskedLMPreprocessor(tokenizer, sequence_length=24,
                                            mask_selection_rate=0.5, mask_selection_length=6,
                                            seed=3)
    texts = ["the quick brown fox jumps over the lazy dog", "hello world", ""]
    packed, _ = BertPreprocessor(tokenizer, sequence_length=24).preprocess(texts)
    x, y, w = preprocessor(texts)
    assert x["mask_positions"].shape == y.shape == w.shape == (3, 6)
    assert x["mask_positions"].dtype == y.dtype == np.int32 and w.dtype == np.float32
    np.testing.assert_array_equal(x["segment_ids"], packed["segment_ids"])
    np.testing.assert_array_equal(x["padding_mask"], packed["padding_mask"])
    special = {0, 2, 3}
    for row in range(3):
        chosen = x["mask_positions"][row][w[row] > 0]
        assert len(set(chosen.tolist())) == len(chosen)
        assert all(packed["token_ids"][row, p] not in special for p in chosen)
        np.testing.assert_array_equal(y[row][w[row] > 0], packed["token_ids"][row, chosen])
        unchanged = np.setdiff1d(np.arange(24), chosen)
        np.testing.assert_array_equal(x["token_ids"][row, unchanged],
                                      packed["token_ids"][row, unchanged])
    assert w[2].sum() == 0  # an empty text has nothing to mask
    # over many draws: ~mask_selection_rate of the tokens, 80% of those become [MASK]
    many = BertMaskedLMPreprocessor(tokenizer, sequence_length=64, mask_selection_rate=0.15,
                                    mask_selection_length=64, seed=0)
    x, y, w = many(["the quick brown fox jumps over the lazy dog " * 6] * 200)
    selected = w.sum()
    real = (x["padding_mask"].sum() - 2 * 200)
    assert 0.12 < selected / real < 0.18
    picked = np.take_along_axis(x["token_ids"], x["mask_positions"], axis=1)[w > 0]
    assert 0.75 < np.mean(picked == tokenizer.mask_token_id) < 0.85
    again = many(["hello world"])  # new masks every call
    assert again[0]["token_ids"].shape == (1, 64)
    with pytest.raises(ValueError, match="makes its own labels"):
        many(["a"], [1])
    config = many.get_config()
    assert serialization.deserialize(serialization.serialize(many)).get_config() == config
