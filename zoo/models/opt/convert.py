"""Hugging Face ``transformers`` OPT checkpoints -> zoo OPT (config, weights, tokenizer).

Pure functions over NumPy; ``reader`` is anything mapping-like (``keys()``, ``reader[key]``
-> np.ndarray). Keys carry ``model.decoder.`` (OPTForCausalLM), ``decoder.`` (OPTModel) or
no prefix (a bare OPTDecoder).

    weights (HF, under the prefix)                 zoo variable
    embed_tokens.weight                            token_embedding/embeddings
    embed_positions.weight                         position_embedding/embeddings (2 + S rows)
    project_in.weight / project_out.weight         embeddings_project_in / _out/kernel
    layers.i.self_attn.{q,k,v}_proj                transformer_layer_i/self_attention/
                                                       {query,key,value}
    layers.i.self_attn.out_proj                    .../self_attention/attention_output
    layers.i.self_attn_layer_norm                  .../self_attention_layer_norm
    layers.i.fc1 / fc2                             .../feedforward_intermediate_dense / _output_dense
    layers.i.final_layer_norm                      .../feedforward_layer_norm
    final_layer_norm                               layer_norm  (pre-norm models)
    lm_head.weight (when stored)                   must equal embed_tokens (tied)

torch Linear weights are (out, in); zoo kernels are (in, out), attention kernels split the
hidden axis into (heads, head_dim).
"""
import os

import numpy as np

from zoo.backend.common import dtypes
from zoo.hub.checkpoint_reader import read_json, tokenizer_json_model

PREFIXES = ("model.decoder.", "decoder.", "")


# -- config -----------------------------------------------------------------------------------

def backbone_config(hf_config):
    """A transformers ``config.json`` (dict) -> OPTBackbone arguments."""
    def need(key):
        if key not in hf_config:
            raise ValueError(f"OPT config.json has no {key!r}; is this an OPT checkpoint?")
        return hf_config[key]

    activation = hf_config.get("activation_function", "relu")
    if activation != "relu":
        raise ValueError(f"OPT config.json: activation_function={activation!r} is not supported "
                         f"(zoo's OPTBackbone uses relu).")
    if not hf_config.get("layer_norm_elementwise_affine", True):
        raise ValueError("OPT config.json: layer_norm_elementwise_affine=false is not supported.")
    if hf_config.get("_remove_final_layer_norm", False):
        raise ValueError("OPT config.json: _remove_final_layer_norm=true (checkpoints fine-tuned "
                         "before transformers 4.20) is not supported.")
    hidden = int(need("hidden_size"))
    projection = hf_config.get("word_embed_proj_dim")
    return {
        "vocabulary_size": int(need("vocab_size")),
        "num_layers": int(need("num_hidden_layers")),
        "num_heads": int(need("num_attention_heads")),
        "hidden_dim": hidden,
        "intermediate_dim": int(need("ffn_dim")),
        "dropout": float(hf_config.get("dropout", 0.1)),
        "max_sequence_length": int(hf_config.get("max_position_embeddings", 2048)),
        "word_embed_proj_dim": None if projection in (None, hidden) else int(projection),
        "do_layer_norm_before": bool(hf_config.get("do_layer_norm_before", True)),
        "enable_bias": bool(hf_config.get("enable_bias", True)),
        "layer_norm_epsilon": 1e-5,  # torch.nn.LayerNorm's default, which OPT uses
    }


# -- weights ----------------------------------------------------------------------------------

def _prefix(keys):
    for prefix in PREFIXES:
        if prefix + "embed_tokens.weight" in keys:
            return prefix
    raise KeyError("OPT checkpoint: no embed_tokens.weight under any of the prefixes "
                   f"{[p for p in PREFIXES if p]} (or none); is this an OPT checkpoint?")


def _assign(variables, path, key, array):
    if path not in variables:
        raise KeyError(f"OPT converter: the model has no variable {path!r} (for {key!r}).")
    variable = variables[path]
    if tuple(array.shape) != tuple(variable.shape):
        raise ValueError(f"OPT checkpoint: {key!r} has shape {tuple(array.shape)} but zoo "
                         f"variable {path!r} has shape {tuple(variable.shape)}.")
    target = dtypes.to_numpy_dtype(variable.dtype)
    variable.assign(array if array.dtype == target else array.astype(target))


def _kernel(array, shape):
    return np.ascontiguousarray(array.T).reshape(shape)  # (out, in) -> (in, out)


def _heads_out(array, shape):
    return np.ascontiguousarray(array.T.reshape(shape))  # (H, H) -> (N, h, H)


def _reshape(array, shape):
    return array.reshape(shape)


def _linear(path, name, bias=True):
    entries = [(f"{path}/kernel", f"{name}.weight", _kernel)]
    return entries + ([(f"{path}/bias", f"{name}.bias", _reshape)] if bias else [])


def _norm(path, name):
    return [(f"{path}/gamma", f"{name}.weight", None), (f"{path}/beta", f"{name}.bias", None)]


def backbone_entries(backbone):
    """(zoo path, HF name without prefix, transform) for every OPTBackbone variable."""
    bias = backbone.enable_bias
    entries = [("token_embedding/embeddings", "embed_tokens.weight", None),
               ("position_embedding/embeddings", "embed_positions.weight", None)]
    if backbone.word_embed_proj_dim not in (None, backbone.hidden_dim):
        entries += _linear("embeddings_project_in", "project_in", bias=False)
        entries += _linear("embeddings_project_out", "project_out", bias=False)
    if backbone.do_layer_norm_before:
        entries += _norm("layer_norm", "final_layer_norm")
    for i in range(backbone.num_layers):
        layer, hf = f"transformer_layer_{i}", f"layers.{i}"
        for part, proj in (("query", "q_proj"), ("key", "k_proj"), ("value", "v_proj")):
            entries += _linear(f"{layer}/self_attention/{part}", f"{hf}.self_attn.{proj}", bias)
        entries.append((f"{layer}/self_attention/attention_output/kernel",
                        f"{hf}.self_attn.out_proj.weight", _heads_out))
        if bias:
            entries.append((f"{layer}/self_attention/attention_output/bias",
                            f"{hf}.self_attn.out_proj.bias", None))
        entries += _norm(f"{layer}/self_attention_layer_norm", f"{hf}.self_attn_layer_norm")
        entries += _linear(f"{layer}/feedforward_intermediate_dense", f"{hf}.fc1", bias)
        entries += _linear(f"{layer}/feedforward_output_dense", f"{hf}.fc2", bias)
        entries += _norm(f"{layer}/feedforward_layer_norm", f"{hf}.final_layer_norm")
    return entries


def load_backbone(backbone, reader):
    """Assign every OPTBackbone variable from ``reader``."""
    keys = set(reader.keys())
    prefix = _prefix(keys)
    variables = backbone.variable_paths()
    for path, name, transform in backbone_entries(backbone):
        key = prefix + name
        if key not in keys:
            raise KeyError(f"OPT checkpoint: no weight {key!r} for zoo variable {path!r}.")
        if path not in variables:
            raise KeyError(f"OPT converter: the model has no variable {path!r} (for {key!r}).")
        array = np.asarray(reader[key])
        shape = tuple(variables[path].shape)
        _assign(variables, path, key, transform(array, shape) if transform else array)
        del array


def load_causal_lm_head(task, reader):
    """The LM head is the tied token embedding: a stored ``lm_head.weight`` must equal it."""
    if "lm_head.weight" not in set(reader.keys()):
        return
    embeddings = np.asarray(task.backbone.token_embedding.embeddings.numpy())
    head = np.asarray(reader["lm_head.weight"])
    if head.shape != embeddings.shape or not np.array_equal(head.astype(embeddings.dtype),
                                                            embeddings):
        raise ValueError("OPT checkpoint: lm_head.weight differs from the token embeddings; "
                         "zoo's OPTCausalLM ties them and cannot load an untied head.")


# -- tokenizer --------------------------------------------------------------------------------

def tokenizer(directory, cls):
    """A ``cls`` (OPTTokenizer) from ``vocab.json`` + ``merges.txt`` (or a fast-only
    ``tokenizer.json``); None when the checkpoint ships neither."""
    directory = os.fspath(directory)
    options = {}
    config = read_json(directory, "tokenizer_config.json")
    if config is not None:
        if config.get("add_prefix_space") is not None:
            options["add_prefix_space"] = bool(config["add_prefix_space"])
    vocab_path = os.path.join(directory, "vocab.json")
    merges_path = os.path.join(directory, "merges.txt")
    if os.path.isfile(vocab_path) and os.path.isfile(merges_path):
        return cls(vocabulary=vocab_path, merges=merges_path, **options)
    fast_path = os.path.join(directory, "tokenizer.json")
    if os.path.isfile(fast_path):
        return _from_tokenizer_json(fast_path, cls, options)
    return None


def _from_tokenizer_json(path, cls, options):
    spec, model = tokenizer_json_model(path, "BPE")
    vocab = dict(model["vocab"])
    for added in spec.get("added_tokens") or []:
        vocab.setdefault(added["content"], int(added["id"]))
    pre = spec.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and "add_prefix_space" not in options:
        options["add_prefix_space"] = bool(pre.get("add_prefix_space", False))
    return cls(vocabulary=vocab, merges=list(model.get("merges") or []), **options)


def _register():
    from zoo.hub.converters import register_converter
    from zoo.models.opt.backbone import OPTBackbone
    from zoo.models.opt.causal_lm import OPTCausalLM

    register_converter(model_type="opt", backbone_cls=OPTBackbone,
                       backbone_config=backbone_config, load_backbone=load_backbone,
                       task_loaders={OPTCausalLM: load_causal_lm_head}, tokenizer=tokenizer,
                       architectures={"OPTForCausalLM": OPTCausalLM})


_register()
