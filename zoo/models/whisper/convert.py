"""Hugging Face ``transformers`` Whisper checkpoints -> zoo Whisper (config, weights, and
the components); the other formats' loaders (CTranslate2, openai-whisper) rename their
tensors to these names and reuse ``load_backbone``.

Pure functions over NumPy; ``reader`` is mapping-like (``keys()``, ``reader[key]`` ->
np.ndarray). Keys carry ``model.`` (WhisperForConditionalGeneration) or no prefix
(WhisperModel).

    weights (HF, under the prefix)                 zoo variable
    encoder.conv1 / conv2 (out, in, 3)             encoder_conv1 / 2 (3, in, out)
    encoder.embed_positions.weight                 encoder_position_embedding/embeddings
    encoder.layers.i.self_attn.{q,k,v}_proj        encoder_transformer_layer_i/self_attention/
                                                       {query,key,value} (k: no bias)
    encoder.layers.i.self_attn.out_proj            .../self_attention/attention_output
    encoder.layers.i.self_attn_layer_norm          .../self_attention_layer_norm
    encoder.layers.i.fc1 / fc2                     .../feedforward_intermediate_dense / _output_dense
    encoder.layers.i.final_layer_norm              .../feedforward_layer_norm
    encoder.layer_norm                             encoder_layer_norm
    decoder.embed_tokens / embed_positions         token_embedding / decoder_position_embedding
    decoder.layers.i.self_attn.*                   decoder_transformer_layer_i/self_attention/*
    decoder.layers.i.encoder_attn.*                .../cross_attention/* (+ _layer_norm)
    decoder.layer_norm                             decoder_layer_norm
    proj_out.weight (when stored)                  must equal embed_tokens (tied)
"""
import numpy as np

from zoo.hub.checkpoint_reader import read_json
from zoo.hub.converters import register_converter
from zoo.hub.porting import Porter, dense_kernel, find_prefix, heads_output_kernel, reshape, \
    transpose

PREFIXES = ("model.", "")


# -- config -----------------------------------------------------------------------------------

def backbone_config(hf_config):
    """A transformers ``config.json`` (dict) -> WhisperBackbone arguments."""
    def need(key):
        if key not in hf_config:
            raise ValueError(f"Whisper config.json has no {key!r}; is this a Whisper "
                             f"checkpoint?")
        return hf_config[key]

    activation = hf_config.get("activation_function", "gelu")
    if activation != "gelu":
        raise ValueError(f"Whisper config.json: activation_function={activation!r} is not "
                         f"supported (zoo's WhisperBackbone uses exact gelu).")
    encoder_ffn, decoder_ffn = int(need("encoder_ffn_dim")), int(need("decoder_ffn_dim"))
    if encoder_ffn != decoder_ffn:
        raise ValueError(f"Whisper config.json: encoder_ffn_dim={encoder_ffn} differs from "
                         f"decoder_ffn_dim={decoder_ffn}; zoo's WhisperBackbone has one "
                         f"intermediate_dim (every published Whisper has equal ones).")
    return {
        "vocabulary_size": int(need("vocab_size")),
        "num_layers": int(need("encoder_layers")),
        "num_heads": int(need("encoder_attention_heads")),
        "hidden_dim": int(need("d_model")),
        "intermediate_dim": encoder_ffn,
        "num_mels": int(hf_config.get("num_mel_bins", 80)),
        "num_decoder_layers": int(need("decoder_layers")),
        "num_decoder_heads": int(need("decoder_attention_heads")),
        "dropout": float(hf_config.get("dropout", 0.0)),
        "max_encoder_sequence_length": 2 * int(hf_config.get("max_source_positions", 1500)),
        "max_decoder_sequence_length": int(hf_config.get("max_target_positions", 448)),
    }


# -- weights ----------------------------------------------------------------------------------

def _linear(porter, path, name, bias=True):
    porter.port(f"{path}/kernel", f"{name}.weight", dense_kernel)
    if bias:
        porter.port(f"{path}/bias", f"{name}.bias", reshape)


def _norm(porter, path, name):
    porter.port(f"{path}/gamma", f"{name}.weight")
    porter.port(f"{path}/beta", f"{name}.bias")


def _attention(porter, path, name):
    _linear(porter, f"{path}/query", f"{name}.q_proj")
    _linear(porter, f"{path}/key", f"{name}.k_proj", bias=False)
    _linear(porter, f"{path}/value", f"{name}.v_proj")
    porter.port(f"{path}/attention_output/kernel", f"{name}.out_proj.weight",
                heads_output_kernel)
    porter.port(f"{path}/attention_output/bias", f"{name}.out_proj.bias")


def _mlp(porter, path, name):
    _linear(porter, f"{path}/feedforward_intermediate_dense", f"{name}.fc1")
    _linear(porter, f"{path}/feedforward_output_dense", f"{name}.fc2")
    _norm(porter, f"{path}/feedforward_layer_norm", f"{name}.final_layer_norm")


def load_backbone(backbone, reader, what="Whisper checkpoint"):
    """Assign every WhisperBackbone variable from ``reader`` (transformers' names)."""
    prefix = find_prefix(reader, PREFIXES, "decoder.embed_tokens.weight", what)
    with Porter(reader, what, prefix=prefix, variables=backbone.variable_paths()) as porter:
        for conv in ("conv1", "conv2"):
            porter.port(f"encoder_{conv}/kernel", f"encoder.{conv}.weight", transpose)
            porter.port(f"encoder_{conv}/bias", f"encoder.{conv}.bias")
        porter.port("encoder_position_embedding/embeddings", "encoder.embed_positions.weight")
        for i in range(backbone.num_layers):
            path, name = f"encoder_transformer_layer_{i}", f"encoder.layers.{i}"
            _attention(porter, f"{path}/self_attention", f"{name}.self_attn")
            _norm(porter, f"{path}/self_attention_layer_norm", f"{name}.self_attn_layer_norm")
            _mlp(porter, path, name)
        _norm(porter, "encoder_layer_norm", "encoder.layer_norm")
        porter.port("token_embedding/embeddings", "decoder.embed_tokens.weight")
        porter.port("decoder_position_embedding/embeddings", "decoder.embed_positions.weight")
        for i in range(backbone.num_decoder_layers):
            path, name = f"decoder_transformer_layer_{i}", f"decoder.layers.{i}"
            _attention(porter, f"{path}/self_attention", f"{name}.self_attn")
            _norm(porter, f"{path}/self_attention_layer_norm", f"{name}.self_attn_layer_norm")
            _attention(porter, f"{path}/cross_attention", f"{name}.encoder_attn")
            _norm(porter, f"{path}/cross_attention_layer_norm",
                  f"{name}.encoder_attn_layer_norm")
            _mlp(porter, path, name)
        _norm(porter, "decoder_layer_norm", "decoder.layer_norm")


def load_speech_to_text_head(task, reader):
    """The output projection is the tied token embedding: a stored ``proj_out.weight`` must
    equal it."""
    porter = Porter(reader, "Whisper checkpoint")
    if not porter.has("proj_out.weight"):
        return
    embeddings = np.asarray(task.backbone.token_embedding.embeddings.numpy())
    head = porter.read("proj_out.weight")
    if head.shape != embeddings.shape or not np.array_equal(head.astype(embeddings.dtype),
                                                            embeddings):
        raise ValueError("Whisper checkpoint: proj_out.weight differs from the token "
                         "embeddings; zoo's WhisperSpeechToText ties them and cannot load an "
                         "untied head.")


# -- generation options -------------------------------------------------------------------------

GENERATION_FILE_KEYS = ("suppress_tokens", "begin_suppress_tokens", "max_initial_timestamp_index",
                        "alignment_heads", "lang_to_id", "task_to_id", "is_multilingual",
                        "no_timestamps_token_id")


def generation_options(directory, task_cls=None):
    """The decoding data of ``generation_config.json`` -> WhisperSpeechToText's
    ``generation_config`` ({} when the checkpoint has no such file)."""
    config = read_json(directory, "generation_config.json") or {}
    options = {key: config[key] for key in GENERATION_FILE_KEYS if config.get(key) is not None}
    return {"generation_config": options} if options else {}


# -- components ---------------------------------------------------------------------------------

def tokenizer(directory, cls):
    """The checkpoint's tokenizer files -> ``cls`` (WhisperTokenizer), or None."""
    from zoo.models.whisper.tokenizer import checkpoint_tokenizer

    return checkpoint_tokenizer(directory, cls)


def audio_converter(directory, cls):
    """``preprocessor_config.json`` -> ``cls`` (WhisperAudioConverter), or None."""
    return cls.from_checkpoint_directory(directory)


def _register():
    task = "zoo.models.whisper.speech_to_text:WhisperSpeechToText"
    register_converter(model_type="whisper",
                       backbone_cls="zoo.models.whisper.backbone:WhisperBackbone",
                       backbone_config=backbone_config, load_backbone=load_backbone,
                       task_loaders={task: load_speech_to_text_head},
                       task_config=generation_options, tokenizer=tokenizer,
                       audio_converter=audio_converter,
                       architectures={"WhisperForConditionalGeneration": task})


_register()
