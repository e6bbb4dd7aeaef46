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

from zoo.backend.common import dtypes
from zoo.hub.checkpoint_reader import read_json, tokenizer_json_model

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


# -- reading keys -------------------------------------------------------------------------------

class _Keys:
    """Looks up HF names in ``reader`` whatever their prefix and layer-norm naming."""

    def __init__(self, reader):
        self.reader = reader
        self.keys = set(reader.keys())
        self.prefix = "bert." if any(k.startswith("bert.") for k in self.keys) else ""

    def candidates(self, name, prefixed=True):
        base = [self.prefix + name] if prefixed else [name]
        if prefixed and self.prefix:
            base.append(name)
        out = []
        for key in base:
            out.append(key)
            if ".LayerNorm." in key:
                out.append(key.replace(".weight", ".gamma").replace(".bias", ".beta"))
        return out

    def find(self, name, prefixed=True):
        for key in self.candidates(name, prefixed):
            if key in self.keys:
                return key
        return None

    def has(self, name, prefixed=True):
        return self.find(name, prefixed) is not None

    def read(self, name, path, prefixed=True):
        key = self.find(name, prefixed)
        if key is None:
            tried = ", ".join(repr(k) for k in self.candidates(name, prefixed))
            raise KeyError(f"BERT checkpoint: no weight {tried} for zoo variable {path!r}.")
        return key, np.asarray(self.reader[key])


def _assign(variables, path, key, array):
    if path not in variables:
        raise KeyError(f"BERT converter: the model has no variable {path!r} (for {key!r}).")
    variable = variables[path]
    if tuple(array.shape) != tuple(variable.shape):
        raise ValueError(f"BERT checkpoint: {key!r} has shape {tuple(array.shape)} but zoo "
                         f"variable {path!r} has shape {tuple(variable.shape)}.")
    target = dtypes.to_numpy_dtype(variable.dtype)
    if array.dtype != target:
        array = array.astype(target)
    variable.assign(array)


def _linear_kernel(weight):
    return np.ascontiguousarray(weight.T)  # (out, in) -> (in, out)


def _load(keys, variables, prefix, entries, prefixed=True):
    """entries: (zoo path under ``prefix``, HF name, transform(array, variable shape))."""
    for path, name, transform in entries:
        full = prefix + path
        if full not in variables:
            raise KeyError(f"BERT converter: the model has no variable {full!r}.")
        key, array = keys.read(name, full, prefixed)
        shape = tuple(variables[full].shape)
        _assign(variables, full, key, transform(array, shape) if transform else array)
        del array


def _kernel(array, shape):
    return _linear_kernel(array).reshape(shape)


def _heads_out(array, shape):
    return np.ascontiguousarray(array.T.reshape(shape))  # (H, H) -> (N, h, H)


def _reshape(array, shape):
    return array.reshape(shape)


def _dense(path, name):
    return [(f"{path}/kernel", f"{name}.weight", _kernel), (f"{path}/bias", f"{name}.bias", None)]


def _norm(path, name):
    return [(f"{path}/gamma", f"{name}.weight", None), (f"{path}/beta", f"{name}.bias", None)]


# -- weights ----------------------------------------------------------------------------------

def load_backbone(backbone, reader):
    """Assign every BertBackbone variable from ``reader``. A checkpoint without a pooler
    (BertForMaskedLM drops it) leaves ``pooled_dense`` as initialized, with a warning."""
    keys = _Keys(reader)
    variables = backbone.variable_paths()
    entries = [
        ("token_embedding/embeddings", "embeddings.word_embeddings.weight", None),
        ("position_embedding/embeddings", "embeddings.position_embeddings.weight", None),
        ("segment_embedding/embeddings", "embeddings.token_type_embeddings.weight", None),
        *_norm("embeddings_layer_norm", "embeddings.LayerNorm"),
    ]
    for i in range(backbone.num_layers):
        layer, hf = f"transformer_layer_{i}", f"encoder.layer.{i}"
        for part in ("query", "key", "value"):
            entries += [
                (f"{layer}/self_attention/{part}/kernel", f"{hf}.attention.self.{part}.weight",
                 _kernel),
                (f"{layer}/self_attention/{part}/bias", f"{hf}.attention.self.{part}.bias",
                 _reshape),
            ]
        entries += [
            (f"{layer}/self_attention/attention_output/kernel",
             f"{hf}.attention.output.dense.weight", _heads_out),
            (f"{layer}/self_attention/attention_output/bias",
             f"{hf}.attention.output.dense.bias", None),
            *_norm(f"{layer}/self_attention_layer_norm", f"{hf}.attention.output.LayerNorm"),
            *_dense(f"{layer}/feedforward_intermediate_dense", f"{hf}.intermediate.dense"),
            *_dense(f"{layer}/feedforward_output_dense", f"{hf}.output.dense"),
            *_norm(f"{layer}/feedforward_layer_norm", f"{hf}.output.LayerNorm"),
        ]
    pooler = _dense("pooled_dense", "pooler.dense")
    if not any(keys.has(name) for _, name, _ in pooler):
        warnings.warn("BERT checkpoint has no pooler (pooler.dense.*): pooled_output keeps its "
                      "random initialization; fine-tune before using it.", stacklevel=2)
    else:
        entries += pooler
    _load(keys, variables, "", entries)


def load_masked_lm_head(task, reader):
    """Assign the masked-LM head (``cls.predictions.*``); the output projection is tied to
    the token embedding, so a separate decoder weight must equal the word embeddings."""
    keys = _Keys(reader)
    variables = task.variable_paths()
    entries = [
        *_dense("masked_lm_head/dense", "cls.predictions.transform.dense"),
        *_norm("masked_lm_head/layer_norm", "cls.predictions.transform.LayerNorm"),
    ]
    _load(keys, variables, "", entries, prefixed=False)
    bias_name = "cls.predictions.bias" if keys.has("cls.predictions.bias", False) \
        else "cls.predictions.decoder.bias"
    key, bias = keys.read(bias_name, "masked_lm_head/output_bias", prefixed=False)
    _assign(variables, "masked_lm_head/output_bias", key, bias)
    decoder = keys.find("cls.predictions.decoder.weight", prefixed=False)
    if decoder is not None:
        embeddings = np.asarray(task.backbone.token_embedding.embeddings.numpy())
        if not np.array_equal(np.asarray(reader[decoder], embeddings.dtype), embeddings):
            raise ValueError("BERT checkpoint: cls.predictions.decoder.weight differs from the "
                             "word embeddings; zoo's BertMaskedLM ties them and cannot load an "
                             "untied decoder.")


def load_classifier_head(task, reader):
    """Assign BertForSequenceClassification's ``classifier`` to the ``logits`` layer."""
    keys = _Keys(reader)
    _load(keys, task.variable_paths(), "", _dense("logits", "classifier"), prefixed=False)


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
    from zoo.hub.converters import register_converter
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
