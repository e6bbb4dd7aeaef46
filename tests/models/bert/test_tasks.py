"""BertTextClassifier and BertMaskedLM: task checks, transformers parity, fit on strings."""
import os

import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND, requires_gradients
from tests.models.bert.test_backbone import load_reference, read_safetensors
from tests.models.helpers import assert_close, run_task_test
from zoo.models import (
    BertBackbone,
    BertMaskedLM,
    BertMaskedLMPreprocessor,
    BertPreprocessor,
    BertTextClassifier,
    BertTokenizer,
)
from zoo.models.bert import convert

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "film", "movie", "was",
         "is", "great", "good", "fine", "bad", "awful", "dull", "plot", "acting", "very",
         "not", "really", ".", "!", "##s"]
GOOD = ["the film was great", "a very good movie", "great acting !", "the plot is fine",
        "really good films", "a great plot"]
BAD = ["the film was awful", "a very bad movie", "dull acting .", "the plot is bad",
       "really dull films", "an awful plot"]


def tiny_backbone(**overrides):
    config = {"vocabulary_size": len(VOCAB), "num_layers": 1, "num_heads": 2, "hidden_dim": 16,
              "intermediate_dim": 32, "max_sequence_length": 16, **overrides}
    return BertBackbone(**config)


def tokenizer():
    return BertTokenizer(VOCAB, lowercase=True)


def sentiment_data(repeat=4):
    x = np.array((GOOD + BAD) * repeat)
    y = np.array(([1] * len(GOOD) + [0] * len(BAD)) * repeat)
    return x, y


def test_text_classifier_task():
    preprocessor = BertPreprocessor(tokenizer(), sequence_length=8)
    x, y = sentiment_data(1)
    run_task_test(BertTextClassifier, {"backbone": tiny_backbone(), "num_classes": 2,
                                       "preprocessor": preprocessor},
                  train_data=(x[:4], y[:4]), expected_output_shape=(4, 2))


def test_masked_lm_task():
    preprocessor = BertMaskedLMPreprocessor(tokenizer(), sequence_length=8,
                                            mask_selection_length=3, seed=0)
    x, _ = sentiment_data(1)
    arrays, _, _ = preprocessor(list(x[:4]))
    run_task_test(BertMaskedLM, {"backbone": tiny_backbone(), "preprocessor": preprocessor},
                  train_data=(x[:4],), predict_data=arrays, expected_output_shape=(4, 3,
                                                                                   len(VOCAB)))


def test_task_config_holds_backbone_and_preprocessor():
    preprocessor = BertPreprocessor(tokenizer(), sequence_length=8)
    classifier = BertTextClassifier(tiny_backbone(), 3, preprocessor=preprocessor,
                                    activation="softmax", dropout=0.2)
    config = classifier.get_config()
    assert config["backbone"]["class_name"] == "BertBackbone"
    assert config["preprocessor"]["class_name"] == "BertPreprocessor"
    assert (config["num_classes"], config["activation"], config["dropout"]) == (3, "softmax", 0.2)
    assert "logits/kernel" in classifier.variable_paths()
    assert "bert_backbone/token_embedding/embeddings" in classifier.variable_paths()
    assert classifier.preprocessor is preprocessor
    assert BertTextClassifier.backbone_cls is BertBackbone
    assert BertTextClassifier.preprocessor_cls is BertPreprocessor
    assert BertMaskedLM.preprocessor_cls is BertMaskedLMPreprocessor
    probabilities = classifier.predict(["great film", "awful plot"], verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_masked_lm_head_is_tied():
    backbone = tiny_backbone()
    masked_lm = BertMaskedLM(backbone)
    paths = masked_lm.variable_paths()
    assert "masked_lm_head/output_bias" in paths
    assert not any(p.startswith("masked_lm_head/") and "embeddings" in p for p in paths)
    embeddings = sum("embeddings/embeddings" in p or p.endswith("token_embedding/embeddings")
                     for p in paths)
    assert embeddings == 1


@pytest.mark.parametrize("name", ["small", "odd"])
def test_parity_with_transformers(references, name):
    directory, hf_config, ref = load_reference(references, name)
    x = {k: ref[k] for k in ("token_ids", "segment_ids", "padding_mask")}

    pretraining = read_safetensors(os.path.join(directory, "pretraining", "model.safetensors"))
    masked_lm = BertMaskedLM(BertBackbone(**convert.backbone_config(hf_config)))
    convert.load_backbone(masked_lm.backbone, pretraining)
    convert.load_masked_lm_head(masked_lm, pretraining)
    logits = masked_lm({**x, "mask_positions": ref["mask_positions"]})
    assert_close(logits, ref["mlm_logits"], 1e-5, 1e-5, "masked LM logits")

    weights = read_safetensors(os.path.join(directory, "classifier", "model.safetensors"))
    classifier = BertTextClassifier(BertBackbone(**convert.backbone_config(hf_config)), 3)
    convert.load_backbone(classifier.backbone, weights)
    convert.load_classifier_head(classifier, weights)
    assert_close(classifier(x), ref["classifier_logits"], 1e-5, 1e-5, "classifier logits")


@requires_gradients()
def test_fit_on_strings_learns():
    zoo.config.set_random_seed(1)
    preprocessor = BertPreprocessor(tokenizer(), sequence_length=8)
    classifier = BertTextClassifier(tiny_backbone(dropout=0.0), 2, preprocessor=preprocessor,
                                    dropout=0.0)
    classifier.compile(optimizer=zoo.optimizers.Adam(1e-2))
    x, y = sentiment_data(6)  # 54 to train, 18 to validate: batches of 9, one step shape
    history = classifier.fit(x, y, batch_size=9, epochs=10, verbose=0, validation_split=0.25)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert "val_loss" in history.history  # validation_split cut from the raw strings
    predictions = classifier.predict(np.array(GOOD + BAD), batch_size=9, verbose=0).argmax(-1)
    assert (predictions == [1] * len(GOOD) + [0] * len(BAD)).mean() >= 0.9
    _, accuracy = classifier.evaluate(x, y, batch_size=9, verbose=0)
    assert accuracy >= 0.9


@requires_gradients()
def test_masked_lm_fit_on_strings():
    zoo.config.set_random_seed(2)
    preprocessor = BertMaskedLMPreprocessor(tokenizer(), sequence_length=8,
                                            mask_selection_rate=0.3, mask_selection_length=3,
                                            seed=0)
    masked_lm = BertMaskedLM(tiny_backbone(dropout=0.0), preprocessor=preprocessor)
    masked_lm.compile(optimizer=zoo.optimizers.Adam(3e-3))
    x, _ = sentiment_data()
    history = masked_lm.fit(x, batch_size=8, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0], losses


def test_generator_of_strings():
    if BACKEND == "numpy":
        pytest.skip("the numpy backend does not train")
    preprocessor = BertPreprocessor(tokenizer(), sequence_length=8)
    classifier = BertTextClassifier(tiny_backbone(), 2, preprocessor=preprocessor)
    x, y = sentiment_data(1)

    def batches():
        for start in range(0, len(x), 4):
            yield list(x[start:start + 4]), y[start:start + 4]

    history = classifier.fit(batches(), epochs=1, verbose=0, steps_per_epoch=3)
    assert np.isfinite(history.history["loss"][-1])
    if BACKEND == "torch":  # a DataLoader collates the strings of a batch into a tuple
        import torch

        loader = torch.utils.data.DataLoader(list(zip(list(x), list(y))), batch_size=4)
        assert np.isfinite(classifier.fit(loader, epochs=1, verbose=0).history["loss"][-1])
    if BACKEND == "tensorflow":  # tf.data yields bytes
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
        assert np.isfinite(classifier.fit(dataset, epochs=1, verbose=0).history["loss"][-1])
    # a list of pairs with a list of labels, validation cut from the raw pairs
    pairs = list(zip(x[:8], x[4:12]))
    history = classifier.fit(pairs, list(y[:8]), batch_size=4, epochs=1, verbose=0,
                             validation_split=0.5)
    assert "val_loss" in history.history
    # already-preprocessed dicts pass through untouched
    arrays = preprocessor(list(x))
    assert_close(classifier.predict(arrays, batch_size=4, verbose=0),
                 classifier.predict(list(x), batch_size=4, verbose=0))
