"""CTranslate2 Whisper checkpoints (the format faster-whisper publishes:
``hf://Systran/faster-whisper-*``) -> zoo Whisper, read with NumPy only.

A checkpoint is a directory:
    model.bin                  the weights (below)
    config.json                decoding data: suppress_ids, suppress_ids_begin, lang_ids,
                               alignment_heads (no dimensions: those come from model.bin)
    vocabulary.txt / .json     the token of each id (what CTranslate2 decodes with)
    tokenizer.json             the Hugging Face tokenizer
    preprocessor_config.json   sometimes (the feature extractor's settings)

model.bin is read by zoo/hub/ctranslate2_reader.py (NumPy only, the header checked when
it is opened, tensors read one at a time, quantized weights dequantized); float16 weights
are cast to the requested dtype as they are assigned.

Names (CTranslate2 -> transformers, whose converter, convert.load_backbone, places them):
    encoder/conv{1,2}/{weight,bias}                  model.encoder.conv{1,2}.*
    encoder/position_encodings/encodings             model.encoder.embed_positions.weight
    {encoder,decoder}/layer_i/self_attention/
        linear_0 (3H, H): q, k, v fused              ...layers.i.self_attn.{q,k,v}_proj
        linear_1                                     ...layers.i.self_attn.out_proj
        layer_norm/{gamma,beta}                      ...layers.i.self_attn_layer_norm
    decoder/layer_i/attention/
        linear_0 q; linear_1 (2H, H): k, v fused     ...layers.i.encoder_attn.{q,k,v}_proj
        linear_2; layer_norm                         ...encoder_attn.out_proj; _layer_norm
    .../layer_i/ffn/linear_0, linear_1, layer_norm   ...layers.i.fc1, fc2, final_layer_norm
    {encoder,decoder}/layer_norm                     model.{encoder,decoder}.layer_norm
    decoder/embeddings/weight                        model.decoder.embed_tokens.weight
    decoder/position_encodings/encodings             model.decoder.embed_positions.weight
    decoder/projection/weight (an alias when tied)   proj_out.weight
The fused key bias is zeros (the converters fill it so); a key bias is a constant per
query over all keys, which softmax cancels, so zoo's bias-free key loses nothing.
"""
import json
import os

from zoo.hub.ctranslate2_reader import MODEL_BIN, ModelBin, looks_like_model_bin
from zoo.hub.loaders import CheckpointLoader, register_loader
from zoo.hub.preset_format import PresetError
from zoo.models.whisper import convert
from zoo.models.whisper.checkpoint_views import TensorView

CONFIG = "config.json"
VOCABULARY_FILES = ("vocabulary.json", "vocabulary.txt")
OPTIONAL_FILES = ("tokenizer.json", *VOCABULARY_FILES, "preprocessor_config.json")
SPEC_NAME = "WhisperSpec"
SPEC_REVISIONS = range(1, 4)
GELU = 3  # common_spec.Activation.GELU
MAX_INITIAL_TIMESTAMP_INDEX = 50  # 1 s: faster-whisper's and transformers' default
MULTILINGUAL_VOCABULARY = 51865   # English-only vocabularies have 51864 tokens


# -- config ---------------------------------------------------------------------------------

def _layer_count(model_bin, stack):
    prefix = f"{stack}/layer_"
    found = {int(n[len(prefix):].split("/", 1)[0]) for n in model_bin.keys()
             if n.startswith(prefix) and n[len(prefix):].split("/", 1)[0].isdigit()}
    if found != set(range(len(found))):
        raise ValueError(f"{model_bin.path}: {stack} layers {sorted(found)} are not numbered "
                         f"0..n-1.")
    return len(found)


def check_whisper(model_bin):
    """Refuse what is not a Whisper model this converter knows."""
    if model_bin.spec is not None and model_bin.spec != SPEC_NAME:
        raise ValueError(f"{model_bin.path} is a CTranslate2 {model_bin.spec!r} model, not "
                         f"Whisper ({SPEC_NAME!r}).")
    if model_bin.spec is not None and model_bin.revision not in SPEC_REVISIONS:
        raise ValueError(f"{model_bin.path}: {SPEC_NAME} revision {model_bin.revision} is "
                         f"newer than the ones zoo reads ({SPEC_REVISIONS[0]} to "
                         f"{SPEC_REVISIONS[-1]}).")
    zeros = [n for n in model_bin.keys() if n.endswith("_zero")]
    if zeros:
        raise ValueError(f"{model_bin.path}: AWQ-style quantized weights ({zeros[0]!r}...) "
                         f"are not supported; use a float16/float32/int8 conversion.")
    activation = model_bin.attribute("decoder/activation", GELU)
    if activation != GELU:
        raise ValueError(f"{model_bin.path}: decoder/activation is {activation}, not GELU "
                         f"({GELU}); zoo's WhisperBackbone uses exact gelu.")
    for name, want in (("decoder/pre_norm", 1), ("decoder/scale_embeddings", 0),
                       ("decoder/alibi", 0), ("decoder/start_from_zero_embedding", 0)):
        value = model_bin.attribute(name)
        multiplier_of_one = name.endswith("scale_embeddings") and isinstance(value, float) \
            and value == 1.0  # a float32 scale of 1 (a bool 1 means "times sqrt(H)")
        if value is not None and value != want and not multiplier_of_one:
            raise ValueError(f"{model_bin.path}: {name} is {value}; Whisper has {want}.")


def backbone_config(model_bin):
    """WhisperBackbone arguments from model.bin's shapes and attributes."""
    check_whisper(model_bin)

    def shape(name):
        if name not in model_bin:
            raise ValueError(f"{model_bin.path} has no variable {name!r}; is it a Whisper "
                             f"model?")
        return model_bin.shape(name)

    def heads(stack):
        value = model_bin.attribute(f"{stack}/num_heads")
        if value is None:
            raise ValueError(f"{model_bin.path} stores no {stack}/num_heads (written by "
                             f"CTranslate2 since its Whisper support); convert it again.")
        return int(value)

    vocabulary_size, hidden_dim = shape("decoder/embeddings/weight")
    intermediate = shape("encoder/layer_0/ffn/linear_0/weight")[0]
    decoder_intermediate = shape("decoder/layer_0/ffn/linear_0/weight")[0]
    if intermediate != decoder_intermediate:
        raise ValueError(f"{model_bin.path}: the encoder's feed-forward width {intermediate} "
                         f"differs from the decoder's {decoder_intermediate}; zoo's "
                         f"WhisperBackbone has one intermediate_dim.")
    return {
        "vocabulary_size": int(vocabulary_size),
        "num_layers": _layer_count(model_bin, "encoder"),
        "num_heads": heads("encoder"),
        "hidden_dim": int(hidden_dim),
        "intermediate_dim": int(intermediate),
        "num_mels": int(shape("encoder/conv1/weight")[1]),
        "num_decoder_layers": _layer_count(model_bin, "decoder"),
        "num_decoder_heads": heads("decoder"),
        "dropout": 0.0,
        "max_encoder_sequence_length": 2 * int(shape("encoder/position_encodings/encodings")[0]),
        "max_decoder_sequence_length": int(shape("decoder/position_encodings/encodings")[0]),
    }


def read_vocabulary(directory):
    """The token of each id: vocabulary.json (a list) or vocabulary.txt (one a line), else
    tokenizer.json's vocabulary and added tokens; None when there is none."""
    for name in VOCABULARY_FILES:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            if name.endswith(".json"):
                tokens = json.load(f)
                if not isinstance(tokens, list):
                    raise ValueError(f"{path}: expected a JSON list of tokens.")
                return [str(t) for t in tokens]
            lines = f.read().split("\n")
            return lines[:-1] if lines and lines[-1] == "" else lines
    path = os.path.join(directory, "tokenizer.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        ids = dict((spec.get("model") or {}).get("vocab") or {})
        ids.update({t["content"]: t["id"] for t in spec.get("added_tokens") or ()})
        tokens = [None] * (max(ids.values()) + 1 if ids else 0)
        for token, i in ids.items():
            tokens[i] = token
        return tokens
    return None


def generation_config(config, vocabulary, vocabulary_size):
    """CTranslate2's config.json (+ the vocabulary) -> the decoding data, keyed as
    transformers' generation_config.json (what WhisperSpeechToText takes)."""
    out = {"is_multilingual": int(vocabulary_size) >= MULTILINGUAL_VOCABULARY,
           "max_initial_timestamp_index": MAX_INITIAL_TIMESTAMP_INDEX}
    for ours, theirs in (("suppress_tokens", "suppress_ids"),
                         ("begin_suppress_tokens", "suppress_ids_begin")):
        if config.get(theirs) is not None:
            out[ours] = [int(t) for t in config[theirs]]
    if config.get("alignment_heads") is not None:
        out["alignment_heads"] = [[int(a), int(b)] for a, b in config["alignment_heads"]]
    if vocabulary is None:
        return out
    ids = {token: i for i, token in enumerate(vocabulary) if token is not None}
    if "<|notimestamps|>" in ids:
        out["no_timestamps_token_id"] = ids["<|notimestamps|>"]
    if out["is_multilingual"]:
        languages = [int(i) for i in config.get("lang_ids") or ()
                     if 0 <= int(i) < len(vocabulary) and vocabulary[int(i)]]
        if languages:
            out["lang_to_id"] = {vocabulary[i]: i for i in languages}
        tasks = {task: ids[f"<|{task}|>"] for task in ("transcribe", "translate")
                 if f"<|{task}|>" in ids}
        if tasks:
            out["task_to_id"] = tasks
    return out


# -- weights --------------------------------------------------------------------------------

def _linear(view, name, source, part=None, bias=True):
    view.add(f"{name}.weight", f"{source}/weight", part)
    if bias:
        view.add(f"{name}.bias", f"{source}/bias", part)


def _norm(view, name, source):
    view.add(f"{name}.weight", f"{source}/gamma")
    view.add(f"{name}.bias", f"{source}/beta")


def _block(view, name, source):
    """The self-attention (q/k/v fused) and feed-forward of one layer."""
    attention = f"{source}/self_attention"
    for i, projection in enumerate(("q_proj", "k_proj", "v_proj")):
        _linear(view, f"{name}.self_attn.{projection}", f"{attention}/linear_0", (i, 3),
                bias=projection != "k_proj")
    _linear(view, f"{name}.self_attn.out_proj", f"{attention}/linear_1")
    _norm(view, f"{name}.self_attn_layer_norm", f"{attention}/layer_norm")
    _linear(view, f"{name}.fc1", f"{source}/ffn/linear_0")
    _linear(view, f"{name}.fc2", f"{source}/ffn/linear_1")
    _norm(view, f"{name}.final_layer_norm", f"{source}/ffn/layer_norm")


def transformers_view(model_bin, config):
    """model.bin's tensors under transformers' names (``model.`` prefix), lazily."""
    view = TensorView(model_bin, path=model_bin.path)
    for conv in ("conv1", "conv2"):
        _linear(view, f"model.encoder.{conv}", f"encoder/{conv}")
    view.add("model.encoder.embed_positions.weight", "encoder/position_encodings/encodings")
    for i in range(config["num_layers"]):
        _block(view, f"model.encoder.layers.{i}", f"encoder/layer_{i}")
    _norm(view, "model.encoder.layer_norm", "encoder/layer_norm")
    view.add("model.decoder.embed_tokens.weight", "decoder/embeddings/weight")
    view.add("model.decoder.embed_positions.weight", "decoder/position_encodings/encodings")
    for i in range(config["num_decoder_layers"]):
        name, source = f"model.decoder.layers.{i}", f"decoder/layer_{i}"
        _block(view, name, source)
        cross = f"{source}/attention"
        _linear(view, f"{name}.encoder_attn.q_proj", f"{cross}/linear_0")
        _linear(view, f"{name}.encoder_attn.k_proj", f"{cross}/linear_1", (0, 2), bias=False)
        _linear(view, f"{name}.encoder_attn.v_proj", f"{cross}/linear_1", (1, 2))
        _linear(view, f"{name}.encoder_attn.out_proj", f"{cross}/linear_2")
        _norm(view, f"{name}.encoder_attn_layer_norm", f"{cross}/layer_norm")
    _norm(view, "model.decoder.layer_norm", "decoder/layer_norm")
    if "decoder/projection/weight" in model_bin:
        view.add("proj_out.weight", "decoder/projection/weight")
    return view


def load_backbone(backbone, model_bin):
    """Assign every WhisperBackbone variable from a ModelBin (checked before any is)."""
    config = {"num_layers": backbone.num_layers,
              "num_decoder_layers": backbone.num_decoder_layers}
    view = transformers_view(model_bin, config).check("CTranslate2 Whisper checkpoint")
    convert.load_backbone(backbone, view, what="CTranslate2 Whisper checkpoint")


# -- the loader -----------------------------------------------------------------------------

@register_loader
class WhisperCTranslate2Loader(CheckpointLoader):
    """A CTranslate2 Whisper directory (see the module docstring)."""
    kind = "CTranslate2 Whisper checkpoint"

    def __init__(self, path, handle, allow_pickle=False):
        super().__init__(path, handle, allow_pickle)
        self._model_bin = None
        self._config = None

    @classmethod
    def claims(cls, path):
        from zoo.hub.preset_format import is_transformers_dir

        model_bin = os.path.join(path, MODEL_BIN)
        return (os.path.isdir(path) and os.path.isfile(model_bin)
                and not is_transformers_dir(path) and looks_like_model_bin(model_bin))

    @classmethod
    def remote_files(cls, listing, allow_pickle=False):
        top = {f for f in listing if "/" not in f}
        if not {MODEL_BIN, CONFIG} <= top or not top & set(VOCABULARY_FILES) \
                or "model.safetensors" in top or "metadata.json" in top:
            return None
        return [CONFIG, MODEL_BIN] + [f for f in OPTIONAL_FILES if f in top]

    @property
    def model_bin(self):
        if self._model_bin is None:
            self._model_bin = ModelBin(os.path.join(self.path, MODEL_BIN))
        return self._model_bin

    @property
    def ct2_config(self):
        if self._config is None:
            path = os.path.join(self.path, CONFIG)
            if not os.path.isfile(path):
                self._config = {}
            else:
                try:
                    with open(path, encoding="utf-8") as f:
                        self._config = json.load(f)
                except ValueError as error:
                    raise PresetError(f"{path} is not valid JSON ({error}).") from None
                if not isinstance(self._config, dict):
                    raise PresetError(f"{path}: expected a JSON object.")
        return self._config

    def plan_model(self, cls, overrides):
        try:
            self.model_bin  # a damaged or unknown model.bin is refused before anything is built
        except ValueError as error:
            raise PresetError(f"{self.label}: {error}") from error
        return super().plan_model(cls, overrides)

    def backbone_class(self):
        from zoo.models.whisper.backbone import WhisperBackbone

        return WhisperBackbone

    def backbone_config(self):
        return backbone_config(self.model_bin)

    def generation_config(self):
        vocabulary_size = self.model_bin.shape("decoder/embeddings/weight")[0]
        return generation_config(self.ct2_config, read_vocabulary(self.path), vocabulary_size)

    def saved_task(self):
        from zoo.models.whisper.speech_to_text import WhisperSpeechToText

        return WhisperSpeechToText, {"generation_config": self.generation_config()}

    def read_weights(self):
        return self.model_bin

    def port_backbone_weights(self, backbone, reader):
        load_backbone(backbone, reader)

    def head_porter(self, task_cls):
        from zoo.models.whisper.speech_to_text import WhisperSpeechToText

        if not issubclass(task_cls, WhisperSpeechToText):
            return None

        def check_tied(task, model_bin):
            config = {"num_layers": task.backbone.num_layers,
                      "num_decoder_layers": task.backbone.num_decoder_layers}
            convert.load_speech_to_text_head(task, transformers_view(model_bin, config))
        return check_tied

    def make_component(self, kind, cls):
        """The tokenizer from tokenizer.json (else the bundled vocabulary of the model's
        size, or none when no published vocabulary has that size); the audio converter from preprocessor_config.json (else the defaults for
        the model's mel bins)."""
        if kind == "tokenizer":
            from zoo.models.whisper.tokenizer import checkpoint_tokenizer

            tokenizer = checkpoint_tokenizer(self.path, cls)
            if tokenizer is None:
                size = self.model_bin.shape("decoder/embeddings/weight")[0]
                try:
                    tokenizer = cls.for_vocabulary_size(size)
                except ValueError:  # not a published vocabulary size: no tokenizer
                    return None
            return tokenizer
        if kind == "audio_converter":
            converter = cls.from_checkpoint_directory(self.path)
            if converter is None:
                converter = cls(num_mels=self.model_bin.shape("encoder/conv1/weight")[1])
            return converter
        return None
