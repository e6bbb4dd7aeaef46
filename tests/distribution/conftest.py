"""Shared pieces of the zoo.distribution tests: 8 virtual CPU devices (tests/conftest.py
sets XLA_FLAGS), tiny BERT and OPT models and a single-device reference fit."""
import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND

jax_only = pytest.mark.skipif(BACKEND != "jax", reason="zoo.distribution is JAX-only")


def eight_devices():
    from zoo import distribution

    return len(distribution.list_devices()) >= 8


needs_8_devices = pytest.mark.skipif(
    BACKEND != "jax" or not eight_devices(),
    reason="needs the JAX backend with 8 (virtual) devices")

OPT_CONFIG = {"vocabulary_size": 64, "num_layers": 2, "num_heads": 4, "hidden_dim": 16,
              "intermediate_dim": 32, "max_sequence_length": 64, "dropout": 0.0}
BERT_CONFIG = {"vocabulary_size": 64, "num_layers": 2, "num_heads": 4, "hidden_dim": 16,
               "intermediate_dim": 32, "max_sequence_length": 32, "dropout": 0.0}


def opt_model(weights=None):
    from zoo.models.opt.backbone import OPTBackbone
    from zoo.models.opt.causal_lm import OPTCausalLM

    zoo.config.set_random_seed(0)
    return _compiled(OPTCausalLM(backbone=OPTBackbone(**OPT_CONFIG), preprocessor=None),
                     weights)


def bert_model(weights=None):
    from zoo.models.bert.backbone import BertBackbone
    from zoo.models.bert.text_classifier import BertTextClassifier

    zoo.config.set_random_seed(0)
    return _compiled(BertTextClassifier(backbone=BertBackbone(**BERT_CONFIG), num_classes=3,
                                        preprocessor=None, dropout=0.0), weights)


def _compiled(model, weights):
    if weights is not None:
        for variable, value in zip(model.variables, weights):
            variable.assign(value)
    model.compile(optimizer=zoo.optimizers.AdamW(learning_rate=1e-2),
                  loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def opt_data(n=16, length=12):
    rng = np.random.default_rng(1)
    x = {"token_ids": rng.integers(0, 64, (n, length)).astype("int32"),
         "padding_mask": (np.arange(length)[None] < rng.integers(6, length + 1, (n, 1)))
         .astype("int32")}
    return x, rng.integers(0, 64, (n, length)).astype("int32")


def bert_data(n=16, length=12):
    x, _ = opt_data(n, length)
    x["segment_ids"] = np.zeros_like(x["token_ids"])
    return x, np.random.default_rng(2).integers(0, 3, (n,)).astype("int32")


MODELS = {"opt": (opt_model, opt_data), "bert": (bert_model, bert_data)}


def weights_of(model):
    return [variable.numpy() for variable in model.variables]
