"""Hugging Face ``transformers`` BERT checkpoints -> zoo BERT (config, weights, tokenizer).

Pure functions over NumPy; ``reader`` is anything mapping-like (``keys()``, ``reader[key]``
-> np.ndarray): the hub's CheckpointReader over ``model.safetensors``, or a plain dict.
Keys may carry the ``bert.`` prefix (BertForMaskedLM, BertForPreTraining, ...) or not
(BertModel), and layer norms may use the legacy ``gamma``/``beta`` names.

    weights (HF)                                       zoo variable
    embeddings.word_embeddings.weight                  token_embedding/embeddings
    embeddings.position_embeddings.weight              position_embedding/embeddings
    embeddings.token_type_embeddings.weight            segment_embedding/embeddings
    embeddings.LayerNorm                               embeddings_layer_norm
    encoder.layer.i.attention.self.{query,key,value}   transformer_layer_i/self_attention/*
    encoder.layer.i.attention.output.dense             .../self_attention/attention_output
    encoder.layer.i.attention.output.LayerNorm         .../self_attention_layer_norm
    encoder.layer.i.intermediate.dense                 .../feedforward_intermediate_dense
    encoder.layer.i.output.dense / .LayerNorm          .../feedforward_output_dense / _layer_norm
    pooler.dense                                       pooled_dense
    cls.predictions.transform.dense / .LayerNorm       masked_lm_head/dense / layer_norm
    cls.predictions.bias                               masked_lm_head/output_bias
    classifier                                         logits

torch Linear weights are (out, in); zoo kernels are (in, out), attention kernels split the
hidden axis into (heads, head_dim).
"""
import os
import warnings

import numpy as np

from zoo.hub.checkpoint_reader import read_json, tokenizer_json_model
from zoo.hub.converters import register_converter
from zoo.hub.porting import (LAYER_NORM_GAMMA_BETA, Porter, dense_kernel, find_prefix,
                             heads_output_kernel, reshape)

ACTIVATIONS = {"gelu": "gelu"}  # exact (erf) gelu, the BertModel default


# -- config -----------------------------------------------------------------------------------

def backbone_config(hf_config):
    """A transformers ``config.json`` (dict) -> BertBackbone arguments."""
    def need(key):
        if key not in hf_config:
            raise ValueError(f"BERT config.json has no {key!r}; is this a BERT checkpoint?")
        return hf_config[key]

    activation = hf_config.get("hidden_act", "gelu")
    if activation not in ACTIVATIONS:
        raise ValueError(f"BERT config.json: hidden_act={activation!r} is not supported "
                         f"(zoo's BertBackbone uses exact gelu).")
    position_type = hf_config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(f"BERT config.json: position_embedding_type={position_type!r} is not "
                         f"supported (only 'absolute').")
    return {
        "vocabulary_size": int(need("vocab_size")),
        "num_layers": int(need("num_hidden_layers")),
        "num_heads": int(need("num_attention_heads")),
        "hidden_dim": int(need("hidden_size")),
        "intermediate_dim": int(need("intermediate_size")),
        "dropout": float(hf_config.get("hidden_dropout_prob", 0.1)),
        "max_sequence_length": int(hf_config.get("max_position_embeddings", 512)),
        "num_segments": int(hf_config.get("type_vocab_size", 2)),
        "layer_norm_epsilon": float(hf_config.get("layer_norm_eps", 1e-12)),
    }


# -- weights ----------------------------------------------------------------------------------

def _porter(reader, variables, prefixed=True):
    """Keys under ``bert.`` (BertForMaskedLM, BertForPreTraining, ...) or none (BertModel);
    layer norms maybe under their legacy ``gamma``/``beta`` names."""
    prefix = find_prefix(reader, ("bert.", ""), "embeddings.word_embeddings.weight",
                         "BERT checkpoint") if prefixed else ""
    return Porter(reader, "BERT checkpoint", prefix=prefix, aliases=LAYER_NORM_GAMMA_BETA,
                  variables=variables)


def _dense(porter, path, name, prefixed=True):
    porter.port(f"{path}/kernel", f"{name}.weight", dense_kernel, prefixed)
    porter.port(f"{path}/bias", f"{name}.bias", None, prefixed)


def _norm(porter, path, name, prefixed=True):
    porter.port(f"{path}/gamma", f"{name}.weight", None, prefixed)
    porter.port(f"{path}/beta", f"{name}.bias", None, prefixed)


def load_backbone(backbone, reader):
    """Assign every BertBackbone variable from ``reader``. A checkpoint without a pooler
    (BertForMaskedLM drops it) leaves ``pooled_dense`` as initialized, with a warning."""
    with _porter(reader, backbone.variable_paths()) as porter:
        porter.port("token_embedding/embeddings", "embeddings.word_embeddings.weight")
        porter.port("position_embedding/embeddings", "embeddings.position_embeddings.weight")
        porter.port("segment_embedding/embeddings", "embeddings.token_type_embeddings.weight")
        _norm(porter, "embeddings_layer_norm", "embeddings.LayerNorm")
        for i in range(backbone.num_layers):
            layer, hf = f"transformer_layer_{i}", f"encoder.layer.{i}"
            for part in ("query", "key", "value"):
                porter.port(f"{layer}/self_attention/{part}/kernel",
                            f"{hf}.attention.self.{part}.weight", dense_kernel)
                porter.port(f"{layer}/self_attention/{part}/bias",
                            f"{hf}.attention.self.{part}.bias", reshape)
            porter.port(f"{layer}/self_attention/attention_output/kernel",
                        f"{hf}.attention.output.dense.weight", heads_output_kernel)
            porter.port(f"{layer}/self_attention/attention_output/bias",
                        f"{hf}.attention.output.dense.bias")
            _norm(porter, f"{layer}/self_attention_layer_norm",
                  f"{hf}.attention.output.LayerNorm")
            _dense(porter, f"{layer}/feedforward_intermediate_dense", f"{hf}.intermediate.dense")
            _dense(porter, f"{layer}/feedforward_output_dense", f"{hf}.output.dense")
            _norm(porter, f"{layer}/feedforward_layer_norm", f"{hf}.output.LayerNorm")
        if porter.has("pooler.dense.weight") or porter.has("pooler.dense.bias"):
            _dense(porter, "pooled_dense", "pooler.dense")
        else:
            warnings.warn("BERT checkpoint has no pooler (pooler.dense.*): pooled_output keeps "
                          "its random initialization; fine-tune before using it.", stacklevel=2)


def load_masked_lm_head(task, reader):
    """Assign the masked-LM head (``cls.predictions.*``); the output projection is tied to
    the token embedding, so a separate decoder weight must equal the word embeddings."""
    with _porter(reader, task.variable_paths(), prefixed=False) as porter:
        _dense(porter, "masked_lm_head/dense", "cls.predictions.transform.dense")
        _norm(porter, "masked_lm_head/layer_norm", "cls.predictions.transform.LayerNorm")
        porter.port("masked_lm_head/output_bias", "cls.predictions.bias",
                    alternatives=("cls.predictions.decoder.bias",))
    if porter.has("cls.predictions.decoder.weight"):
        embeddings = np.asarray(task.backbone.token_embedding.embeddings.numpy())
        decoder = porter.read("cls.predictions.decoder.weight")
        if not np.array_equal(decoder.astype(embeddings.dtype), embeddings):
            raise ValueError("BERT checkpoint: cls.predictions.decoder.weight differs from the "
                             "word embeddings; zoo's BertMaskedLM ties them and cannot load an "
                             "untied decoder.")


def load_classifier_head(task, reader):
    """Assign BertForSequenceClassification's ``classifier`` to the ``logits`` layer."""
    with _porter(reader, task.variable_paths(), prefixed=False) as porter:
        _dense(porter, "logits", "classifier")


# -- tokenizer --------------------------------------------------------------------------------

def tokenizer(directory, cls):
    """A ``cls`` (BertTokenizer) from ``vocab.txt`` + ``tokenizer_config.json``, or from a
    fast-only ``tokenizer.json``; None when the checkpoint ships neither."""
    directory = os.fspath(directory)
    options = {}
    config = read_json(directory, "tokenizer_config.json")
    if config is not None:
        options["lowercase"] = bool(config.get("do_lower_case", True))
        if config.get("strip_accents") is not None:
            options["strip_accents"] = bool(config["strip_accents"])
        if config.get("tokenize_chinese_chars") is not None:
            options["split_on_cjk"] = bool(config["tokenize_chinese_chars"])
    vocab_path = os.path.join(directory, "vocab.txt")
    if os.path.isfile(vocab_path):
        options.setdefault("lowercase", True)  # transformers' BertTokenizer default
        return cls(vocabulary=vocab_path, **options)
    fast_path = os.path.join(directory, "tokenizer.json")
    if os.path.isfile(fast_path):
        return _from_tokenizer_json(fast_path, cls, options)
    return None


def _from_tokenizer_json(path, cls, options):
    spec, model = tokenizer_json_model(path, "WordPiece")
    vocab = model["vocab"]
    tokens = [None] * (max(vocab.values()) + 1)
    for token, index in vocab.items():
        tokens[index] = token
    if any(t is None for t in tokens):
        raise ValueError(f"{path}: the WordPiece vocabulary has gaps in its ids.")
    normalizer = spec.get("normalizer") or {}
    if normalizer.get("type") == "BertNormalizer":
        options.setdefault("lowercase", bool(normalizer.get("lowercase", True)))
        if normalizer.get("strip_accents") is not None:
            options.setdefault("strip_accents", bool(normalizer["strip_accents"]))
        options.setdefault("split_on_cjk", bool(normalizer.get("handle_chinese_chars", True)))
    if "max_input_chars_per_word" in model:
        options["max_input_chars_per_word"] = int(model["max_input_chars_per_word"])
    return cls(vocabulary=tokens, **options)


def _register():
    from zoo.models.bert.backbone import BertBackbone
    from zoo.models.bert.masked_lm import BertMaskedLM
    from zoo.models.bert.text_classifier import BertTextClassifier

    register_converter(model_type="bert", backbone_cls=BertBackbone,
                       backbone_config=backbone_config, load_backbone=load_backbone,
                       task_loaders={BertMaskedLM: load_masked_lm_head,
                                     BertTextClassifier: load_classifier_head},
                       tokenizer=tokenizer,
                       # fine-tuned heads only: a pre-training checkpoint is a backbone
                       # (as transformers' AutoModel loads it), its MLM head on request
                       architectures={"BertForSequenceClassification": BertTextClassifier})


_register()
