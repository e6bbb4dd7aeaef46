"""WhisperSpeechToText: Whisper with its output projection (next-token logits), and
``generate()`` for transcription and translation.

    inputs  encoder_features (B, F, mels), decoder_token_ids / decoder_padding_mask (B, T)
    logits  decoder_sequence_output @ token_embedding^T          (B, T, vocabulary_size)

    model.generate("speech.flac")                                  -> "text"
    model.generate([a, b], language="fr", task="translate")        -> ["text", "text"]
    model.generate(audio, return_timestamps=True)  -> {"text", "chunks": [{"timestamp":
                                                      (start, end), "text"}, ...]}
    model.detect_language(audio)                   -> ("en", {"en": 0.97, ...})

Generation (zoo/generation): the prompt is the forced prefix (``<|startoftranscript|>``,
language, task, ``<|notimestamps|>`` unless timestamps are asked, after
``<|startofprev|>`` + ``prompt`` when given); ``decoding_state`` runs the encoder once per
batch and computes each decoder layer's cross-attention keys and values once; each step
runs one token per row against the self-attention cache. ``begin_suppress_tokens``,
``suppress_tokens`` and, with timestamps, the timestamp rules
(zoo/models/whisper/timestamps.py) are logits processors inside the compiled loop.

``generation_config`` holds the checkpoint's decoding data, named as transformers'
``generation_config.json``: ``suppress_tokens``, ``begin_suppress_tokens``,
``max_initial_timestamp_index``, ``alignment_heads``.
"""
import numpy as np

from zoo import losses, ops, optimizers
from zoo.generation import generate_tokens, samplers
from zoo.generation.logits_processors import SuppressTokens, SuppressTokensAtBegin, check
from zoo.generation.protocol import DecodingProtocol
from zoo.layers.input_layer import Input
from zoo.models.task import Task
from zoo.models.whisper.backbone import WhisperBackbone
from zoo.models.whisper.preprocessor import WhisperPreprocessor, check_task
from zoo.models.whisper.timestamps import WhisperTimestampRules

GENERATION_KEYS = ("suppress_tokens", "begin_suppress_tokens", "max_initial_timestamp_index",
                   "alignment_heads", "lang_to_id", "task_to_id", "is_multilingual",
                   "no_timestamps_token_id")


class WhisperSpeechToText(Task, DecodingProtocol):
    pipeline_tag = "automatic-speech-recognition"
    head_from_backbone = True  # the head is the tied embedding: any backbone has it
    backbone_cls = WhisperBackbone
    preprocessor_cls = WhisperPreprocessor

    def __init__(self, backbone, preprocessor=None, generation_config=None, name=None,
                 **kwargs):
        inputs = {name_: Input(tensor.shape[1:], dtype=tensor.dtype, name=name_)
                  for name_, tensor in backbone._inputs_struct.items()}
        hidden = backbone(inputs)["decoder_sequence_output"]               # (B, T, H)
        logits = backbone.token_embedding(hidden, reverse=True)           # (B, T, V)
        super().__init__(inputs=inputs, outputs=logits,
                         name=name or "whisper_speech_to_text", **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.generation_config = _generation_config(generation_config)
        self.compile()

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """``"auto"``: AdamW(1e-5), sparse categorical cross-entropy from logits (weighted
        by the preprocessor's sample_weight), accuracy."""
        if optimizer == "auto":
            optimizer = optimizers.AdamW(1e-5)
        if loss == "auto":
            loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # -- the decoding protocol (zoo/generation/protocol.py) -------------------------------
    def decoding_state(self, batch_size, max_length, context):
        encoded = self.backbone.encode(context["encoder_features"])
        return {"cross": self.backbone.cross_attention_caches(encoded),
                "self": self.backbone.build_cache(batch_size, max_length)}

    def decode(self, token_ids, state, index, padding_mask):
        hidden, cache = self.backbone.decode_with_cache(token_ids, state["self"],
                                                        state["cross"], index, padding_mask)
        return hidden, {**state, "self": cache}

    def logits_from_hidden(self, hidden):
        """(B, T, H) decoder states -> (B, T, V) logits through the tied embedding."""
        return self.backbone.token_embedding(hidden, reverse=True)

    # -- generate -------------------------------------------------------------------------
    def generate(self, audio, language=None, task="transcribe", return_timestamps=False,
                 max_new_tokens=None, sampler="greedy", prompt=None, sampling_rate=None,
                 logits_processors=None, seed=None):
        """Transcribe (or translate into English) each input.

        audio: a file path, a waveform (needs ``sampling_rate`` unless 16 kHz), a
          ``{"raw": waveform, "sampling_rate": sr}`` dict, a list of them, or features
          ``{"encoder_features": (B, frames, mels)}`` (and optionally the prompt
          ``"decoder_token_ids"`` (B, P) or (P,)); at most 30 s each.
        language: a code ("en", "fr"...) or name; None detects it on multilingual models.
        task: "transcribe" or "translate" (multilingual models).
        return_timestamps: segments with their times instead of plain text.
        max_new_tokens: default: as many as the decoder has positions for.
        sampler: "greedy", "beam" or a Sampler (samplers.BeamSampler(num_beams=4)).
        prompt: text of a previous window, given to the decoder after <|startofprev|>.
        -> str for one input, a list for a batch (dicts with timestamps). Given features,
        the tokens: ``{"decoder_token_ids", "decoder_padding_mask"}`` (B, prompt + new),
        the mask covering the prompt, the new tokens and the end token.
        """
        tokenizer = self._tokenizer("generate")
        task = check_task(task, f"{type(self).__name__}.generate")
        if task == "translate" and not tokenizer.is_multilingual:
            raise ValueError(f"{type(self).__name__}.generate: task='translate' needs a "
                             f"multilingual model; this one is English-only.")
        features, single = self._features(audio, sampling_rate)
        if isinstance(audio, dict) and "decoder_token_ids" in audio:  # a prompt of ids
            prompts = np.atleast_2d(np.asarray(ops.convert_to_numpy(
                audio["decoder_token_ids"]), np.int32))
            prompts = np.broadcast_to(prompts, (features.shape[0], prompts.shape[1])).copy()
        else:
            prompts = self._prompts(features, language, task, return_timestamps, prompt)
        prompt_length = prompts.shape[1]
        limit = self.backbone.max_decoder_sequence_length
        total = limit if max_new_tokens is None else min(limit,
                                                         prompt_length + int(max_new_tokens))
        if total <= prompt_length:
            raise ValueError(f"{type(self).__name__}.generate: no room for new tokens "
                             f"(prompt of {prompt_length} tokens, max_new_tokens="
                             f"{max_new_tokens}, {limit} decoder positions).")
        processors = self._processors(tokenizer, return_timestamps) + check(logits_processors)
        out = generate_tokens(self, prompts, np.ones_like(prompts, dtype=bool), total,
                              samplers.get(sampler).strategy(), (tokenizer.end_token_id,),
                              tokenizer.end_token_id, processors, seed=seed,
                              context={"encoder_features": ops.convert_to_tensor(features)})
        if isinstance(audio, dict) and "encoder_features" in audio:
            result = _token_result(out, prompt_length, tokenizer.end_token_id)
            return {k: v[0] for k, v in result.items()} if single else result
        results = [self._result(row[prompt_length:], tokenizer, return_timestamps)
                   for row in out]
        return results[0] if single else results

    def detect_language(self, audio, sampling_rate=None):
        """-> (code, {code: probability}) for one input, a list of them for a batch: the
        decoder's distribution over the language tokens after <|startoftranscript|>."""
        tokenizer = self._tokenizer("detect_language")
        if not tokenizer.is_multilingual:
            raise ValueError(f"{type(self).__name__}.detect_language: this model is "
                             f"English-only; it has no language tokens.")
        features, single = self._features(audio, sampling_rate)
        found = self._detect(features, tokenizer)
        return found[0] if single else found

    # -- pieces of generate ---------------------------------------------------------------
    def _tokenizer(self, what):
        tokenizer = getattr(self.preprocessor, "tokenizer", None)
        if tokenizer is None:
            raise ValueError(f"{type(self).__name__}.{what} needs a preprocessor with a "
                             f"tokenizer (load the model with from_preset, or pass "
                             f"preprocessor=WhisperPreprocessor(...)).")
        return tokenizer

    def _features(self, audio, sampling_rate):
        if isinstance(audio, dict) and "encoder_features" in audio:
            features = np.asarray(ops.convert_to_numpy(audio["encoder_features"]), np.float32)
            single = features.ndim == 2
            features = features[None] if single else features
            if features.ndim != 3 or features.shape[-1] != self.backbone.num_mels:
                raise ValueError(f"{type(self).__name__}: encoder_features must be (batch, "
                                 f"frames, {self.backbone.num_mels}), got {features.shape}.")
            return features, single
        if self.preprocessor is None:
            raise ValueError(f"{type(self).__name__}: raw audio needs a preprocessor; pass "
                             f"{{'encoder_features': ...}} or attach a WhisperPreprocessor.")
        features, batched = self.preprocessor.load_features(audio, sampling_rate)
        return features, not batched

    def _prompts(self, features, language, task, timestamps, prompt):
        tokenizer = self._tokenizer("generate")
        if not tokenizer.is_multilingual:
            if language not in (None, "en", "english", "English"):
                raise ValueError(f"{type(self).__name__}.generate: language={language!r} on "
                                 f"an English-only model (only 'en').")
            ids = self.preprocessor.prompt_ids(None, task, timestamps, prompt)
            return np.tile(np.asarray(ids, np.int32), (features.shape[0], 1))
        if language is not None:
            ids = self.preprocessor.prompt_ids(language, task, timestamps, prompt)
            return np.tile(np.asarray(ids, np.int32), (features.shape[0], 1))
        detected = [code for code, _ in self._detect(features, tokenizer)]
        return np.asarray([self.preprocessor.prompt_ids(code, task, timestamps, prompt)
                           for code in detected], np.int32)

    def _detect(self, features, tokenizer):
        batch = features.shape[0]
        state = self.decoding_state(batch, 1, {"encoder_features":
                                               ops.convert_to_tensor(features)})
        start = np.full((batch, 1), tokenizer.start_of_transcript_id, np.int32)
        hidden, _ = self.decode(ops.convert_to_tensor(start), state, 0,
                                ops.convert_to_tensor(np.ones((batch, 1), np.int32)))
        logits = np.asarray(ops.convert_to_numpy(self.logits_from_hidden(hidden)),
                            np.float64)[:, 0]
        languages = _detectable_languages(self.generation_config, tokenizer)
        codes, ids = list(languages), np.asarray(list(languages.values()))
        chosen = logits[:, ids]
        chosen = np.exp(chosen - chosen.max(-1, keepdims=True))
        probabilities = chosen / chosen.sum(-1, keepdims=True)
        return [(codes[int(np.argmax(p))], {c: float(q) for c, q in zip(codes, p)})
                for p in probabilities]

    def _processors(self, tokenizer, timestamps):
        config = self.generation_config
        processors = []
        if config.get("begin_suppress_tokens"):
            processors.append(SuppressTokensAtBegin(config["begin_suppress_tokens"]))
        if config.get("suppress_tokens"):
            processors.append(SuppressTokens(config["suppress_tokens"]))
        if timestamps:
            processors.append(WhisperTimestampRules(
                tokenizer.timestamp_begin_id, tokenizer.no_timestamps_id,
                tokenizer.end_token_id, config.get("max_initial_timestamp_index", 50)))
        return processors

    def _result(self, ids, tokenizer, timestamps):
        ids = [int(t) for t in ids]
        if tokenizer.end_token_id in ids:
            ids = ids[:ids.index(tokenizer.end_token_id)]
        if not timestamps:
            return tokenizer.decode(ids)
        chunks = tokenizer.split_segments(ids)
        return {"text": "".join(chunk["text"] for chunk in chunks), "chunks": chunks}


def _detectable_languages(generation_config, tokenizer):
    """{code: token id} detection chooses among: the checkpoint's ``lang_to_id`` when it
    has one (as transformers does), else every language token of the tokenizer."""
    named = generation_config.get("lang_to_id")
    if named:
        return {token.strip("<|>"): int(i) for token, i in named.items()}
    return dict(tokenizer.language_ids)


def _token_result(out, prompt_length, end_id):
    ended = np.cumsum(out[:, prompt_length:] == end_id, axis=1)
    after_end = np.concatenate([np.zeros_like(ended[:, :1]), ended[:, :-1]], axis=1) > 0
    mask = np.ones(out.shape, np.int32)
    mask[:, prompt_length:] = ~after_end
    return {"decoder_token_ids": out.astype(np.int32), "decoder_padding_mask": mask}


def _generation_config(config):
    config = dict(config or {})
    unknown = sorted(set(config) - set(GENERATION_KEYS))
    if unknown:
        raise ValueError(f"WhisperSpeechToText: unknown generation_config key"
                         f"{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(GENERATION_KEYS)}).")
    for key in ("suppress_tokens", "begin_suppress_tokens"):
        if key in config:
            config[key] = [int(t) for t in config[key] or ()]
    if config.get("max_initial_timestamp_index") is not None:
        config["max_initial_timestamp_index"] = int(config["max_initial_timestamp_index"])
    if config.get("alignment_heads") is not None:
        config["alignment_heads"] = [[int(a), int(b)] for a, b in config["alignment_heads"]]
    return config
