"""openai-whisper ``.pt`` checkpoints (``whisper.load_model``'s files, ``tiny.en.pt`` ...)
-> zoo Whisper.

The file is a torch pickle of ``{"dims": {n_mels, n_vocab, n_audio_ctx, n_audio_state,
n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer},
"model_state_dict": {...}}``. Pickles can run code, so zoo reads one only when the caller
opts in: ``from_preset(path, allow_pickle=True)`` or ``zoo convert --allow-pickle``; it is
then loaded with ``torch.load(weights_only=True)`` (tensors and plain containers only) by
zoo/backend/common/torch_checkpoint.py, the one place torch is imported. Whether a file is
such a checkpoint is decided without unpickling it: its pickle bytes name ``dims``,
``model_state_dict`` and ``n_audio_state``.

Names (openai-whisper -> transformers, whose converter, convert.load_backbone, places them):
    encoder.conv{1,2}                       model.encoder.conv{1,2}
    encoder.positional_embedding (buffer)   model.encoder.embed_positions.weight
                                            (the sinusoids, computed when a file lacks it)
    {encoder,decoder}.blocks.i.attn.{query,key,value,out}
                                            ...layers.i.self_attn.{q,k,v,out}_proj
    ....blocks.i.attn_ln                    ...layers.i.self_attn_layer_norm
    decoder.blocks.i.cross_attn.*, cross_attn_ln
                                            ...layers.i.encoder_attn.*, _layer_norm
    ....blocks.i.mlp.0, mlp.2, mlp_ln       ...layers.i.fc1, fc2, final_layer_norm
    encoder.ln_post, decoder.ln             model.encoder.layer_norm, model.decoder.layer_norm
    decoder.token_embedding.weight          model.decoder.embed_tokens.weight
    decoder.positional_embedding            model.decoder.embed_positions.weight

The files carry no tokenizer and no decoding data: the tokenizer is the bundled vocabulary
of the model's size (WhisperTokenizer.for_vocabulary_size), and the decoding data are
openai-whisper's defaults (``suppress_tokens="-1"``: its non-speech symbols and the
control tokens; `` `` and the end token suppressed at the start).
"""
import os
import zipfile

import numpy as np

from zoo.hub.loaders import CheckpointLoader, register_loader
from zoo.hub.preset_format import PresetError
from zoo.models.whisper import convert
from zoo.models.whisper.checkpoint_views import TensorView

SUFFIXES = (".pt", ".pth")
DIMS = ("n_mels", "n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
        "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer")
MARKERS = (b"dims", b"model_state_dict", b"n_audio_state")
SCANNED = 1 << 20  # bytes of a legacy (non-zip) pickle searched for the markers
MAX_INITIAL_TIMESTAMP_INDEX = 50  # openai-whisper's max_initial_timestamp=1.0 s


def _pickle_bytes(path):
    """The bytes that hold the pickled structure (not the tensor data): a zip archive's
    ``*/data.pkl``, else the start of a legacy file."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith("data.pkl")]
                return archive.read(names[0]) if names else b""
        with open(path, "rb") as f:
            return f.read(SCANNED)
    except (OSError, zipfile.BadZipFile, KeyError):
        return b""


def is_openai_checkpoint(path):
    """Whether ``path`` looks like an openai-whisper checkpoint (no unpickling)."""
    if not (os.path.isfile(path) and path.endswith(SUFFIXES)):
        return False
    data = _pickle_bytes(path)
    return all(marker in data for marker in MARKERS)


def backbone_config(dims, where="openai-whisper checkpoint"):
    """``dims`` -> WhisperBackbone arguments."""
    missing = [k for k in DIMS if k not in dims]
    if missing:
        raise ValueError(f"{where}: dims has no {', '.join(missing)} (it has "
                         f"{', '.join(sorted(dims))}).")
    if int(dims["n_text_state"]) != int(dims["n_audio_state"]):
        raise ValueError(f"{where}: n_text_state={dims['n_text_state']} differs from "
                         f"n_audio_state={dims['n_audio_state']}; zoo's WhisperBackbone has "
                         f"one hidden_dim.")
    hidden = int(dims["n_audio_state"])
    return {
        "vocabulary_size": int(dims["n_vocab"]),
        "num_layers": int(dims["n_audio_layer"]),
        "num_heads": int(dims["n_audio_head"]),
        "hidden_dim": hidden,
        "intermediate_dim": 4 * hidden,  # openai-whisper's MLP is always 4 * n_state wide
        "num_mels": int(dims["n_mels"]),
        "num_decoder_layers": int(dims["n_text_layer"]),
        "num_decoder_heads": int(dims["n_text_head"]),
        "dropout": 0.0,
        "max_encoder_sequence_length": 2 * int(dims["n_audio_ctx"]),
        "max_decoder_sequence_length": int(dims["n_text_ctx"]),
    }


def transformers_view(state_dict, config, path=None):
    """``model_state_dict`` under transformers' names (``model.`` prefix), lazily."""
    view = TensorView(state_dict, path=path)

    def linear(name, source, bias=True):
        view.add(f"{name}.weight", f"{source}.weight")
        if bias:
            view.add(f"{name}.bias", f"{source}.bias")

    def block(name, source, cross):
        attentions = [("self_attn", "attn")] + ([("encoder_attn", "cross_attn")] if cross
                                                else [])
        for ours, theirs in attentions:
            for projection, their_projection in (("q_proj", "query"), ("k_proj", "key"),
                                                 ("v_proj", "value"), ("out_proj", "out")):
                linear(f"{name}.{ours}.{projection}", f"{source}.{theirs}.{their_projection}",
                       bias=projection != "k_proj")
            linear(f"{name}.{ours}_layer_norm", f"{source}.{theirs}_ln")
        linear(f"{name}.fc1", f"{source}.mlp.0")
        linear(f"{name}.fc2", f"{source}.mlp.2")
        linear(f"{name}.final_layer_norm", f"{source}.mlp_ln")

    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder.{conv}")
    view.add("model.encoder.embed_positions.weight", "encoder.positional_embedding")
    for i in range(config["num_layers"]):
        block(f"model.encoder.layers.{i}", f"encoder.blocks.{i}", cross=False)
    linear("model.encoder.layer_norm", "encoder.ln_post")
    view.add("model.decoder.embed_tokens.weight", "decoder.token_embedding.weight")
    view.add("model.decoder.embed_positions.weight", "decoder.positional_embedding")
    for i in range(config["num_decoder_layers"]):
        block(f"model.decoder.layers.{i}", f"decoder.blocks.{i}", cross=True)
    linear("model.decoder.layer_norm", "decoder.ln")
    return view


class _WithSinusoids:
    """A state dict plus ``encoder.positional_embedding`` (openai-whisper's ``sinusoids``)
    for the files that do not store that buffer."""

    def __init__(self, state_dict, shape):
        self.state_dict, self._shape = state_dict, tuple(shape)

    def __getitem__(self, key):
        if key == "encoder.positional_embedding" and key not in self.state_dict:
            from zoo.layers.initializers import Sinusoidal

            return Sinusoidal()(self._shape, "float32")
        return self.state_dict[key]

    def shape(self, key):
        if key == "encoder.positional_embedding" and key not in self.state_dict:
            return self._shape
        shape = getattr(self.state_dict, "shape", None)
        return tuple(shape(key)) if callable(shape) else np.shape(self.state_dict[key])

    def __contains__(self, key):
        return key == "encoder.positional_embedding" or key in self.state_dict


@register_loader
class WhisperOpenAILoader(CheckpointLoader):
    """An openai-whisper ``.pt`` file (see the module docstring)."""
    kind = "openai-whisper checkpoint"

    def __init__(self, path, handle, allow_pickle=False):
        super().__init__(path, handle, allow_pickle)
        self._checkpoint = None

    @classmethod
    def claims(cls, path):
        return is_openai_checkpoint(path)

    @property
    def checkpoint(self):
        """(dims, state dict), unpickled with torch.load(weights_only=True) once the caller
        allowed it."""
        if self._checkpoint is None:
            if not self.allow_pickle:
                raise PresetError(
                    f"{self.path} is an openai-whisper checkpoint, a pickle file, which can "
                    f"run code when it is read; zoo reads it only when you opt in: "
                    f"from_preset({self.handle!r}, allow_pickle=True), or zoo convert "
                    f"--allow-pickle SRC DST (it is then loaded with "
                    f"torch.load(weights_only=True)). Convert it once and use the zoo preset.")
            from zoo.backend.common import torch_checkpoint

            try:
                loaded = torch_checkpoint.load_checkpoint(self.path)
            except Exception as error:  # torch raises its own (unpickling, zip) errors
                raise PresetError(f"{self.path}: cannot read it as an openai-whisper "
                                  f"checkpoint with torch.load(weights_only=True) "
                                  f"({type(error).__name__}: {error}).") from None
            if not isinstance(loaded, dict) or not isinstance(loaded.get("dims"), dict) \
                    or "model_state_dict" not in loaded:
                got = sorted(loaded) if isinstance(loaded, dict) else type(loaded).__name__
                raise PresetError(f"{self.path}: expected openai-whisper's {{'dims': ..., "
                                  f"'model_state_dict': ...}}, got {got}.")
            self._checkpoint = (loaded["dims"], loaded["model_state_dict"])
        return self._checkpoint

    def backbone_class(self):
        from zoo.models.whisper.backbone import WhisperBackbone

        return WhisperBackbone

    def backbone_config(self):
        return backbone_config(self.checkpoint[0], self.path)

    def plan_model(self, cls, overrides):
        self.checkpoint  # refused (or unpickled) before anything is built
        return super().plan_model(cls, overrides)

    def read_weights(self):
        dims, state_dict = self.checkpoint
        config = backbone_config(dims, self.path)
        shape = (config["max_encoder_sequence_length"] // 2, config["hidden_dim"])
        return transformers_view(_WithSinusoids(state_dict, shape), config, self.path)

    def port_backbone_weights(self, backbone, reader):
        reader.check("openai-whisper checkpoint")
        convert.load_backbone(backbone, reader, what="openai-whisper checkpoint")

    def saved_task(self):
        from zoo.models.whisper.speech_to_text import WhisperSpeechToText

        return WhisperSpeechToText, {"generation_config": self.generation_config()}

    def tokenizer(self, cls=None):
        from zoo.models.whisper.tokenizer import WhisperTokenizer

        cls = cls or WhisperTokenizer
        try:
            return cls.for_vocabulary_size(self.checkpoint[0]["n_vocab"])
        except ValueError:  # not a published vocabulary size: no tokenizer
            return None

    def generation_config(self):
        """openai-whisper's decoding defaults, keyed as transformers' generation_config."""
        tokenizer = self.tokenizer()
        if tokenizer is None:
            return {"max_initial_timestamp_index": MAX_INITIAL_TIMESTAMP_INDEX}
        control = [tokenizer.start_of_transcript_id, tokenizer.translate_id,
                   tokenizer.transcribe_id, tokenizer.start_of_lm_id,
                   tokenizer.start_of_prev_id, tokenizer.no_speech_id]
        config = {
            "suppress_tokens": sorted(set(tokenizer.non_speech_token_ids) | set(control)),
            "begin_suppress_tokens": [tokenizer.tokenize(" ")[0], tokenizer.end_token_id],
            "is_multilingual": tokenizer.is_multilingual,
            "no_timestamps_token_id": tokenizer.no_timestamps_id,
            "max_initial_timestamp_index": MAX_INITIAL_TIMESTAMP_INDEX,
        }
        if tokenizer.is_multilingual:
            config["lang_to_id"] = {f"<|{code}|>": int(i)
                                    for code, i in tokenizer.language_ids.items()}
            config["task_to_id"] = {"transcribe": tokenizer.transcribe_id,
                                    "translate": tokenizer.translate_id}
        return config

    def make_component(self, kind, cls):
        if kind == "tokenizer":
            return self.tokenizer(cls)
        if kind == "audio_converter":
            return cls(num_mels=int(self.checkpoint[0]["n_mels"]))
        return None
