"""Text pipelines on tiny random BERT presets saved in a temp dir, on the active backend."""
import json

import numpy as np
import pytest

import zoo
from zoo import cli
from zoo.models.bert import (BertBackbone, BertMaskedLM, BertPreprocessor, BertTextClassifier,
                             BertTokenizer)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + \
    "the a film was good bad great not is book slow fast".split()


def _backbone():
    zoo.config.set_random_seed(0)
    return BertBackbone(vocabulary_size=len(VOCAB), num_layers=1, num_heads=2, hidden_dim=8,
                        intermediate_dim=16, max_sequence_length=32)


def _preprocessor():
    return BertPreprocessor(BertTokenizer(VOCAB, lowercase=True), sequence_length=32)


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_presets")
    classifier = BertTextClassifier(_backbone(), num_classes=3, preprocessor=_preprocessor())
    classifier.save_to_preset(root / "classifier")
    masked_lm = BertMaskedLM(_backbone(), preprocessor=_preprocessor())
    masked_lm.save_to_preset(root / "masked_lm")
    return {"classifier": str(root / "classifier"), "masked_lm": str(root / "masked_lm"),
            "model": classifier}


def test_text_classification(presets):
    classify = zoo.pipeline("text-classification", preset=presets["classifier"],
                            labels=["neg", "neutral", "pos"])
    texts = ["the film was good", "a slow book", "great"]
    results = classify(texts, top_k=3)
    assert len(results) == 3
    logits = np.asarray(presets["model"].predict(texts, verbose=0), "float64")
    for row, result in zip(logits, results):
        probs = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
        assert [r["label"] for r in result] == [["neg", "neutral", "pos"][i]
                                                for i in np.argsort(-probs)]
        np.testing.assert_allclose([r["score"] for r in result], np.sort(probs)[::-1],
                                   atol=1e-5)
    single = classify("the film was good")
    assert len(single) == 1 and single[0]["label"] == results[0][0]["label"]


def test_text_classification_default_labels_and_label_count(presets):
    classify = zoo.pipeline("text-classification", preset=presets["classifier"])
    assert classify("good")[0]["label"].startswith("LABEL_")
    with pytest.raises(ValueError, match="3 classes"):
        zoo.pipeline("text-classification", preset=presets["classifier"], labels=["a", "b"])


def test_feature_extraction_matches_the_backbone(presets):
    extract = zoo.pipeline("feature-extraction", preset=presets["classifier"])
    texts = ["the film was good", "bad"]
    features = extract(texts)
    assert [f.shape for f in features] == [(6, 8), (3, 8)]  # [CLS] ... [SEP]
    x = _preprocessor().preprocess(texts)[0]
    backbone = zoo.Model.from_preset(presets["classifier"]).backbone
    full = zoo.ops.convert_to_numpy(backbone(x)["sequence_output"])
    np.testing.assert_allclose(features[0], full[0, :6], atol=1e-5)
    np.testing.assert_allclose(features[1], full[1, :3], atol=1e-5)


def test_fill_mask(presets):
    fill = zoo.pipeline("fill-mask", preset=presets["masked_lm"])
    result = fill("the film was [MASK]", top_k=4)
    assert len(result) == 4
    scores = [r["score"] for r in result]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-6
    for r in result:
        assert r["token_str"] == VOCAB[r["token"]]
        assert r["sequence"].split()[:3] == ["the", "film", "was"]
    batch = fill(["the [MASK] was good", "a [MASK]"], top_k=2)
    assert [len(r) for r in batch] == [2, 2]


def test_fill_mask_needs_exactly_one_mask(presets):
    fill = zoo.pipeline("fill-mask", preset=presets["masked_lm"])
    with pytest.raises(ValueError, match="exactly one"):
        fill("the film was good")


def test_fill_mask_refuses_a_classifier_preset(presets):
    with pytest.raises(ValueError, match="BertTextClassifier.*fill-mask"):
        zoo.pipeline("fill-mask", preset=presets["classifier"])


def test_unknown_task_suggests_names():
    with pytest.raises(ValueError, match="fill-mask"):
        zoo.pipeline("fill-masks", preset="x")


def test_pipeline_from_an_in_memory_model(presets):
    classify = zoo.pipeline("text-classification", model=presets["model"])
    assert len(classify(["good", "bad"])) == 2


def test_zoo_run_command(presets, capsys):
    code = cli.main(["run", "text-classification", "--preset", presets["classifier"],
                     "the film was good", "bad"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("LABEL_") >= 2


@pytest.fixture(scope="module")
def opt_preset(tmp_path_factory):
    """A tiny random OPTCausalLM with a byte-level BPE tokenizer, saved as a preset."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from zoo.models import OPTBackbone, OPTCausalLM, OPTCausalLMPreprocessor, OPTTokenizer

    root = tmp_path_factory.mktemp("opt_pipeline")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(
        ["the cat sat on the mat", "a dog ran in the park"] * 4,
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                            show_progress=False))
    tokenizer.model.save(str(root))
    with open(root / "vocab.json") as f:
        assert json.load(f)["</s>"] == 2
    bpe = OPTTokenizer(str(root / "vocab.json"), str(root / "merges.txt"))
    zoo.config.set_random_seed(0)
    backbone = OPTBackbone(vocabulary_size=bpe.vocabulary_size(), num_layers=1, num_heads=2,
                           hidden_dim=8, intermediate_dim=16, max_sequence_length=48)
    model = OPTCausalLM(backbone, preprocessor=OPTCausalLMPreprocessor(bpe, sequence_length=32))
    model.save_to_preset(root / "preset")
    return str(root / "preset"), model


def test_text_generation(opt_preset):
    path, model = opt_preset
    generate = zoo.pipeline("text-generation", preset=path)
    results = generate(["the cat", "a dog ran"], max_new_tokens=6)
    assert len(results) == 2 and all(len(r) == 1 for r in results)
    expected = model.generate(["the cat", "a dog ran"], max_new_tokens=6)
    assert [r[0]["generated_text"] for r in results] == expected
    single = generate("the cat", max_new_tokens=6, return_full_text=False)
    assert single[0]["generated_text"] == expected[0][len("the cat"):]
    guessed = generate(["the cat", "a dog ran"], max_new_tokens=6, prompt_lookup_num_tokens=3)
    assert [r[0]["generated_text"] for r in guessed] == expected
    sampled = generate("the cat", max_new_tokens=6, do_sample=True, top_k=5, seed=1)
    assert sampled == generate("the cat", max_new_tokens=6, do_sample=True, top_k=5, seed=1)
    beam = generate("the cat", max_new_tokens=4, num_beams=2)
    assert beam[0]["generated_text"].startswith("the cat")


def test_zoo_run_passes_options(opt_preset, capsys):
    path, model = opt_preset
    code = cli.main(["run", "text-generation", "--preset", path, "the cat",
                     "-o", "max_new_tokens=5", "-o", "prompt_lookup_num_tokens=4",
                     "--option", "return_full_text=false"])
    out = capsys.readouterr().out
    assert code == 0, out
    expected = model.generate("the cat", max_new_tokens=5)[len("the cat"):]
    assert json.loads(out)["output"] == [{"generated_text": expected}]
    code = cli.main(["run", "text-generation", "--preset", path, "the cat", "-o", "beams=2"])
    err = capsys.readouterr().err
    assert code == 1 and "unknown option 'beams'" in err and "num_beams" in err
    assert cli.main(["run", "text-generation", "--preset", path, "x", "-o", "novalue"]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err
