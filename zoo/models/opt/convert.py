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

from zoo.hub.checkpoint_reader import read_json, tokenizer_json_model
from zoo.hub.converters import register_converter
from zoo.hub.porting import Porter, dense_kernel, find_prefix, heads_output_kernel, reshape

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

def _linear(porter, path, name, bias=True):
    porter.port(f"{path}/kernel", f"{name}.weight", dense_kernel)
    if bias:
        porter.port(f"{path}/bias", f"{name}.bias", reshape)


def _norm(porter, path, name):
    porter.port(f"{path}/gamma", f"{name}.weight")
    porter.port(f"{path}/beta", f"{name}.bias")


def load_backbone(backbone, reader):
    """Assign every OPTBackbone variable from ``reader``."""
    prefix = find_prefix(reader, PREFIXES, "embed_tokens.weight", "OPT checkpoint")
    bias = backbone.enable_bias
    with Porter(reader, "OPT checkpoint", prefix=prefix,
                variables=backbone.variable_paths()) as porter:
        porter.port("token_embedding/embeddings", "embed_tokens.weight")
        porter.port("position_embedding/embeddings", "embed_positions.weight")
        if backbone.word_embed_proj_dim not in (None, backbone.hidden_dim):
            _linear(porter, "embeddings_project_in", "project_in", bias=False)
            _linear(porter, "embeddings_project_out", "project_out", bias=False)
        if backbone.do_layer_norm_before:
            _norm(porter, "layer_norm", "final_layer_norm")
        for i in range(backbone.num_layers):
            layer, hf = f"transformer_layer_{i}", f"layers.{i}"
            for part, proj in (("query", "q_proj"), ("key", "k_proj"), ("value", "v_proj")):
                _linear(porter, f"{layer}/self_attention/{part}", f"{hf}.self_attn.{proj}", bias)
            porter.port(f"{layer}/self_attention/attention_output/kernel",
                        f"{hf}.self_attn.out_proj.weight", heads_output_kernel)
            if bias:
                porter.port(f"{layer}/self_attention/attention_output/bias",
                            f"{hf}.self_attn.out_proj.bias")
            _norm(porter, f"{layer}/self_attention_layer_norm", f"{hf}.self_attn_layer_norm")
            _linear(porter, f"{layer}/feedforward_intermediate_dense", f"{hf}.fc1", bias)
            _linear(porter, f"{layer}/feedforward_output_dense", f"{hf}.fc2", bias)
            _norm(porter, f"{layer}/feedforward_layer_norm", f"{hf}.final_layer_norm")


def load_causal_lm_head(task, reader):
    """The LM head is the tied token embedding: a stored ``lm_head.weight`` must equal it."""
    porter = Porter(reader, "OPT checkpoint")
    if not porter.has("lm_head.weight"):
        return
    embeddings = np.asarray(task.backbone.token_embedding.embeddings.numpy())
    head = porter.read("lm_head.weight")
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
    from zoo.models.opt.backbone import OPTBackbone
    from zoo.models.opt.causal_lm import OPTCausalLM

    register_converter(model_type="opt", backbone_cls=OPTBackbone,
                       backbone_config=backbone_config, load_backbone=load_backbone,
                       task_loaders={OPTCausalLM: load_causal_lm_head}, tokenizer=tokenizer,
                       architectures={"OPTForCausalLM": OPTCausalLM})


_register()
