"""WhisperTokenizer: byte-level BPE (GPT-2's) with Whisper's special-token layout.

    tokenizer = WhisperTokenizer.from_bundled(multilingual=True)         # 51865 ids
    tokenizer = WhisperTokenizer.from_checkpoint("whisper-tiny.en/")       # tokenizer.json, ...
    tokenizer.tokenize(" Hello world")  -> [2425, 1002]
    tokenizer.language_token_id("en") == 50259, tokenizer.transcribe_id == 50359
    tokenizer.decode([50258, 50259, 50359, 50364, 2425, 1002, 50414, 50257],
                     with_timestamps=True)   -> "<|0.00|> Hello world<|1.00|>"
    tokenizer.split_segments(same ids)       -> [{"timestamp": (0.0, 1.0), "text": " Hello world"}]

Layout. After the BPE tokens (50256 in the English vocabulary, 50257 in the multilingual one,
whose last is an empty token) come, one id after another:

    <|endoftext|>  <|startoftranscript|>  <|en|> <|zh|> ... (99 languages; 100 with <|yue|>,
    large-v3)  <|translate|>  <|transcribe|>  <|startoflm|>  <|startofprev|>  <|nospeech|>
    (older checkpoints: <|nocaptions|>)  <|notimestamps|>  <|0.00|> <|0.02|> ... <|30.00|>

so English has 51864 ids, multilingual 51865 and v3 51866. A vocabulary that stops after the
BPE tokens (or after <|notimestamps|>, as older tokenizer.json files do) is completed; one
whose special tokens sit at other ids is an error. All these tokens are matched in a text as
themselves (as transformers and tiktoken with ``allowed_special="all"`` do).

``tokenize`` adds nothing (``prefix_ids`` makes the decoder prompt). ``decode`` is
transformers' ``WhisperTokenizer.decode`` (a prompt before <|startoftranscript|> dropped,
timestamps removed, or rendered as "<|1.08|>" with ``with_timestamps=True``), and
``split_segments`` turns timestamped ids into the ASR pipeline's chunks
``[{"timestamp": (start, end), "text"}, ...]``.

Sources: a checkpoint's ``tokenizer.json`` (transformers, faster-whisper), or its
``vocab.json`` + ``merges.txt`` (+ ``added_tokens.json``), or, for openai-whisper checkpoints
that have none, the vocabularies bundled in the repository's top-level ``tokenizers/whisper/``
(made from openai-whisper's ``gpt2.tiktoken`` / ``multilingual.tiktoken`` by
``tokenizers/prepare_whisper.py``).
"""
import json
import os
import re
import site
import sys

import numpy as np

from zoo.hub.checkpoint_reader import read_json, tokenizer_json_model
from zoo.models.preprocessing import Tokenizer
from zoo.models.whisper.languages import LANGUAGES, MAX_LANGUAGES, language_code
from zoo.saving.serialization import register_builtin
from zoo.tokenizers.byte_pair import BytePairTokenizer, check_vocabulary, read_vocabulary

NUM_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|>, 0.02 s apart
TIME_PRECISION = 0.02
SEGMENT_FRAMES = 1500  # encoder positions in a 30 s window (what one timestamp step spans)
CONTROL_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                  "<|nospeech|>", "<|notimestamps|>")
# other names of a slot's token in older vocabularies (transformers' first checkpoints)
TOKEN_ALIASES = {"<|nospeech|>": "<|nocaptions|>", "<|he|>": "<|iw|>"}
TASKS = ("transcribe", "translate")
TIMESTAMP_PATTERN = re.compile(r"<\|(\d+\.\d+)\|>")  # what transformers strips from text

# the bundled vocabularies: tokenizers/whisper/<name>/{vocab.json,merges.txt}
BUNDLED = {False: "gpt2", True: "multilingual"}
TOKENIZERS_DIR_ENV = "ZOO_TOKENIZERS_DIR"


def timestamp_token(index):
    return f"<|{index * TIME_PRECISION:.2f}|>"


def layout(num_languages, renamed=()):
    """Whisper's special tokens in id order, from <|endoftext|> to <|30.00|>; ``renamed``
    holds the TOKEN_ALIASES keys to write under their older name."""
    codes = list(LANGUAGES)[:num_languages]
    tokens = (["<|endoftext|>", "<|startoftranscript|>"] + [f"<|{c}|>" for c in codes]
              + list(CONTROL_TOKENS) + [timestamp_token(i) for i in range(NUM_TIMESTAMPS)])
    return [TOKEN_ALIASES[t] if t in renamed else t for t in tokens]


def complete_vocabulary(vocabulary, num_languages=None, where="vocabulary"):
    """A BPE vocabulary (optionally with some or all special tokens) -> (the full vocabulary
    with Whisper's layout after its BPE tokens, the number of languages)."""
    vocabulary = dict(vocabulary)
    end = vocabulary.get("<|endoftext|>")
    if end is None:
        end = max(vocabulary.values()) + 1
    if "<|startoftranscript|>" in vocabulary and "<|translate|>" in vocabulary:
        found = vocabulary["<|translate|>"] - vocabulary["<|startoftranscript|>"] - 1
        if num_languages is not None and found != num_languages:
            raise ValueError(f"WhisperTokenizer {where}: it has {found} language tokens between "
                             f"<|startoftranscript|> and <|translate|>, but num_languages="
                             f"{num_languages} was asked.")
        num_languages = found
    elif num_languages is None:
        num_languages = 99
    if not 1 <= int(num_languages) <= MAX_LANGUAGES:
        raise ValueError(f"WhisperTokenizer {where}: num_languages must be 1..{MAX_LANGUAGES}, "
                         f"got {num_languages}.")
    num_languages = int(num_languages)
    tokens = layout(num_languages, [t for t, old in TOKEN_ALIASES.items() if old in vocabulary])
    by_id = {index: token for token, index in vocabulary.items()}
    for offset, token in enumerate(tokens):
        want = end + offset
        if token in vocabulary and vocabulary[token] != want:
            raise ValueError(f"WhisperTokenizer {where}: {token} has id {vocabulary[token]}, "
                             f"but Whisper's layout ({num_languages} languages, <|endoftext|> "
                             f"at {end}) puts it at {want}.")
        if by_id.get(want, token) != token:
            raise ValueError(f"WhisperTokenizer {where}: id {want} is {by_id[want]!r}, where "
                             f"Whisper's layout ({num_languages} languages, <|endoftext|> at "
                             f"{end}) puts {token}.")
        vocabulary[token] = want
    beyond = sorted((i, t) for t, i in vocabulary.items() if i >= end + len(tokens))
    if beyond:
        raise ValueError(f"WhisperTokenizer {where}: {len(beyond)} token(s) after <|30.00|> "
                         f"(e.g. {beyond[0][1]!r} at id {beyond[0][0]}); Whisper's vocabulary "
                         f"ends with the timestamp tokens.")
    return vocabulary, num_languages


def _id_list(ids, where):
    """One sequence (list, 1D array) -> a list of int, checked to be non-negative."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, (int, np.integer)):
        ids = [ids]
    out = []
    for i in ids:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{where}: token ids must be integers, got {i!r}.")
        out.append(int(i))
    return out


def _is_batch(ids):
    if isinstance(ids, np.ndarray):
        return ids.ndim == 2
    return isinstance(ids, (list, tuple)) and bool(ids) and isinstance(ids[0], (list, tuple,
                                                                              np.ndarray))


@register_builtin
class WhisperTokenizer(BytePairTokenizer, Tokenizer):
    # what a transformers / faster-whisper checkpoint makes it from (generation_config.json,
    # read by the task for suppress tokens and language ids, comes along with them)
    checkpoint_files = ("tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json",
                        "special_tokens_map.json", "tokenizer_config.json", "normalizer.json",
                        "generation_config.json")
    num_languages = None
    end_token_id = start_of_transcript_id = translate_id = transcribe_id = None
    start_of_lm_id = start_of_prev_id = no_speech_id = no_timestamps_id = None
    timestamp_begin_id = None
    start_token_id = pad_token_id = None

    def __init__(self, vocabulary=None, merges=None, num_languages=None):
        self._num_languages_asked = None if num_languages is None else int(num_languages)
        self.language_ids = {}
        self._non_speech = None
        super().__init__(vocabulary, merges, add_prefix_space=False)

    # -- vocabulary ---------------------------------------------------------------------------
    def set_vocabulary_and_merges(self, vocabulary, merges):
        """A dict (token -> id) or ``vocab.json`` path, with or without the special tokens
        (the layout is completed), and a list of merges or a ``merges.txt`` path."""
        if isinstance(vocabulary, (str, os.PathLike)):
            where = os.fspath(vocabulary)
            vocabulary = read_vocabulary(vocabulary)
        elif isinstance(vocabulary, dict):
            where = "vocabulary"
            vocabulary = check_vocabulary(vocabulary)
        else:
            raise TypeError(f"WhisperTokenizer: vocabulary must be a dict of token -> id or the "
                            f"path of a vocab.json, got {type(vocabulary).__name__}.")
        full, num_languages = complete_vocabulary(vocabulary, self._num_languages_asked, where)
        end = full["<|endoftext|>"]
        self.special_tokens = [t for t, _ in sorted(((t, i) for t, i in full.items()
                                                     if i >= end), key=lambda x: x[1])]
        super().set_vocabulary_and_merges(full, merges)
        self.num_languages = num_languages
        self.end_token_id = self.pad_token_id = end
        self.start_of_transcript_id = self.start_token_id = end + 1
        codes = list(LANGUAGES)[:num_languages]
        self.language_ids = {code: end + 2 + i for i, code in enumerate(codes)}
        control = end + 2 + num_languages
        (self.translate_id, self.transcribe_id, self.start_of_lm_id, self.start_of_prev_id,
         self.no_speech_id, self.no_timestamps_id) = range(control, control + 6)
        self.timestamp_begin_id = control + 6
        self._non_speech = None

    def _build_backend(self):
        from tokenizers import AddedToken, Tokenizer as Backend, decoders, pre_tokenizers
        from tokenizers.models import BPE

        backend = Backend(BPE(vocab=dict(self.vocabulary), merges=list(self.merges),
                              continuing_subword_prefix="", end_of_word_suffix="",
                              fuse_unk=False))
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        backend.decoder = decoders.ByteLevel()
        control, timestamps = (self.special_tokens[:-NUM_TIMESTAMPS],
                               self.special_tokens[-NUM_TIMESTAMPS:])
        # control tokens are special (skipped by skip_special_tokens); timestamps are not
        # (transformers' checkpoints add them with special=False; decode drops them itself)
        backend.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                    for t in control])
        backend.add_tokens([AddedToken(t, special=False, normalized=False) for t in timestamps])
        return backend

    @property
    def is_multilingual(self):
        """openai-whisper's rule: 51865 ids or more (English-only models have 51864)."""
        return self.vocabulary_size() >= 51865

    def language_token_id(self, language):
        """A language code ("de") or name ("german") -> the id of its token."""
        self._require_vocabulary()
        return self.language_ids[language_code(language, self.language_ids)]

    def prefix_ids(self, language=None, task="transcribe", timestamps=False):
        """The decoder prompt: <|startoftranscript|> [language] [task] [<|notimestamps|>].
        English-only vocabularies take neither a language (other than "en") nor a task
        other than "transcribe", and get neither token (as their checkpoints expect)."""
        self._require_vocabulary()
        if task is not None and task not in TASKS:
            raise ValueError(f"WhisperTokenizer: task must be one of {TASKS} (or None), got "
                             f"{task!r}.")
        ids = [self.start_of_transcript_id]
        if not self.is_multilingual:
            if language is not None and language_code(language, self.language_ids) != "en":
                raise ValueError(f"WhisperTokenizer: this vocabulary is English-only "
                                 f"({self.vocabulary_size()} ids); language={language!r} needs "
                                 f"a multilingual model.")
            if task == "translate":
                raise ValueError("WhisperTokenizer: task='translate' needs a multilingual "
                                 f"model; this vocabulary is English-only "
                                 f"({self.vocabulary_size()} ids).")
        else:
            if language is not None:
                ids.append(self.language_token_id(language))
            if task is not None:
                ids.append(self.transcribe_id if task == "transcribe" else self.translate_id)
        if not timestamps:
            ids.append(self.no_timestamps_id)
        return ids

    def prompt_ids(self, text):
        """A previous-text prompt: <|startofprev|> + the ids of " " + text.strip() (as
        transformers' ``get_prompt_ids``); special tokens in the text are an error."""
        ids = self.tokenize(" " + str(text).strip())
        special = [i for i in ids if i >= self.end_token_id]
        if special:
            raise ValueError(f"WhisperTokenizer: the prompt text contains the special token "
                             f"{self.id_to_token(special[0])}, which a prompt may not have.")
        return [self.start_of_prev_id] + ids

    @property
    def non_speech_token_ids(self):
        """openai-whisper's ``Tokenizer.non_speech_tokens``: the ids of symbols that mark
        speaker tags or sound annotations ("♪", "[", "(", ...), suppressed by its default
        ``suppress_tokens="-1"`` (for checkpoints without a generation_config.json)."""
        if self._non_speech is None:
            symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
            symbols += ("<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪"
                        .split())
            miscellaneous = "♩♪♫♬♭♮♯"  # may be several tokens: their first is suppressed
            result = {self.tokenize(" -")[0], self.tokenize(" '")[0]}
            for symbol in symbols + list(miscellaneous):
                for ids in (self.tokenize(symbol), self.tokenize(" " + symbol)):
                    if len(ids) == 1 or symbol in miscellaneous:
                        result.add(ids[0])
            self._non_speech = tuple(sorted(result))
        return self._non_speech

    # -- decoding -----------------------------------------------------------------------------
    def decode(self, ids, with_timestamps=False, skip_special_tokens=True):
        """Ids -> text, as transformers' ``WhisperTokenizer.decode``: with
        ``skip_special_tokens`` a prompt (ids before <|startoftranscript|> that start with
        <|startofprev|>) and the special tokens are dropped; timestamps are dropped, or with
        ``with_timestamps`` written as "<|1.08|>" (``decode_with_timestamps=True``). A batch
        (2D array, list of lists) -> a list of strings."""
        if _is_batch(ids):
            return [self.decode(row, with_timestamps, skip_special_tokens) for row in ids]
        ids = self._checked_ids(ids, "decode")
        if skip_special_tokens:
            ids = self._strip_prompt(ids)
        if with_timestamps:
            return self._decode_with_timestamps(ids, skip_special_tokens)
        text = self._backend.decode(ids, skip_special_tokens=skip_special_tokens)
        return TIMESTAMP_PATTERN.sub("", text)

    def _checked_ids(self, ids, where):
        self._require_vocabulary()
        ids = _id_list(ids, f"WhisperTokenizer.{where}")
        size = self.vocabulary_size()
        bad = [i for i in ids if not 0 <= i < size]
        if bad:
            raise ValueError(f"WhisperTokenizer.{where}: id {bad[0]} is outside the vocabulary "
                             f"(0..{size - 1}).")
        return ids

    def _strip_prompt(self, ids):
        """transformers' ``_strip_prompt``: a sequence starting with <|startofprev|> keeps
        only what follows its <|startoftranscript|> (nothing when there is none)."""
        if ids and ids[0] == self.start_of_prev_id:
            if self.start_of_transcript_id in ids:
                return ids[ids.index(self.start_of_transcript_id):]
            return []
        return ids

    def _decode_with_timestamps(self, ids, skip_special_tokens):
        """transformers' ``_decode_with_timestamps``: each timestamp as "<|t|>", the text
        between decoded piece by piece; a timestamp lower than the one before starts a new
        30 s segment (ids of several generate calls, concatenated), offset accordingly."""
        begin = self.timestamp_begin_id
        outputs = [[]]
        current_max = previous_segments = penultimate = 0.0
        for i, token in enumerate(ids):
            if token >= begin:
                timestamp = float((token - begin) * TIME_PRECISION)
                if timestamp < current_max:  # the next segment has started
                    single_ending = i >= 2 and not (ids[i - 1] >= begin and ids[i - 2] >= begin)
                    if single_ending:
                        previous_segments += TIME_PRECISION * SEGMENT_FRAMES
                    else:
                        current_max = penultimate
                        previous_segments += penultimate
                        outputs = outputs[:-2]
                penultimate, current_max = current_max, timestamp
                outputs.append(f"<|{(timestamp + previous_segments):.2f}|>")
                outputs.append([])
            else:
                outputs[-1].append(token)
        return "".join(piece if isinstance(piece, str) else
                       self._backend.decode(piece, skip_special_tokens=skip_special_tokens)
                       if piece else "" for piece in outputs)

    def split_segments(self, ids, return_language=False):
        """Ids generated with timestamps -> the chunks transformers' ASR pipeline returns
        with ``return_timestamps=True`` (its ``_decode_asr`` on one output):
        ``[{"timestamp": (start, end), "text": ...}, ...]``, a chunk per pair of timestamps,
        the text between them decoded; text after the last timestamp makes a chunk whose end
        is None. The pipeline's "text" is ``"".join(chunk["text"] for chunk in chunks)``.
        ``return_language`` adds each chunk's "language" (a name, from the last language
        token before it; None when there is none)."""
        ids = self._strip_prompt(self._checked_ids(ids, "split_segments"))
        begin = self.timestamp_begin_id
        languages = {i: LANGUAGES[c] for c, i in self.language_ids.items()}
        last_language = None
        chunks, current = [], []

        def new_chunk():
            return {"language": last_language, "timestamp": [None, None], "text": ""}

        chunk = new_chunk()
        current_max = previous_segments = penultimate = 0.0
        for i, token in enumerate(ids):
            if self.end_token_id <= token < begin:  # a special token: only languages count
                if token in languages:
                    chunk["language"] = last_language = languages[token]
            elif token >= begin:
                timestamp = float((token - begin) * TIME_PRECISION)
                if timestamp < current_max:  # the next segment has started
                    single_ending = i >= 2 and not (ids[i - 1] >= begin and ids[i - 2] >= begin)
                    if single_ending:
                        previous_segments += TIME_PRECISION * SEGMENT_FRAMES
                    else:
                        current_max = penultimate
                        previous_segments += penultimate
                penultimate, current_max = current_max, timestamp
                time = round((token - begin) * TIME_PRECISION + 0.0 + previous_segments, 2)
                if chunk["timestamp"][0] is None:
                    chunk["timestamp"][0] = time
                elif time != chunk["timestamp"][0]:  # equal: a repeated start, kept a start
                    chunk["timestamp"][1] = time
                    chunk["text"] = self.decode(current, skip_special_tokens=False)
                    chunks.append(chunk)
                    current, chunk = [], new_chunk()
            else:
                current.append(token)
        if current:  # text without an ending timestamp
            chunk["text"] = self.decode(current, skip_special_tokens=False)
            chunks.append(chunk)
        for chunk in chunks:
            chunk["timestamp"] = tuple(chunk["timestamp"])
            if not return_language:
                chunk.pop("language")
        return chunks

    # -- building -----------------------------------------------------------------------------
    @classmethod
    def from_tokenizer_json(cls, path, num_languages=None):
        """From a fast-tokenizer ``tokenizer.json`` (transformers, faster-whisper): its BPE
        vocabulary and merges plus its added tokens, the layout completed."""
        path = os.fspath(path)
        spec, model = tokenizer_json_model(path, "BPE")
        pre = spec.get("pre_tokenizer") or {}
        if pre.get("type") != "ByteLevel" or pre.get("add_prefix_space", False):
            raise ValueError(f"{path}: expected a byte-level BPE tokenizer without a prefix "
                             f"space (Whisper's), got the pre-tokenizer {json.dumps(pre)[:200]}.")
        vocabulary = dict(model["vocab"])
        for added in spec.get("added_tokens") or []:
            vocabulary[added["content"]] = int(added["id"])
        return cls(check_vocabulary(vocabulary, path), list(model.get("merges") or []),
                   num_languages=num_languages)

    @classmethod
    def from_checkpoint(cls, directory, num_languages=None):
        """From a checkpoint directory's ``tokenizer.json``, else its ``vocab.json`` +
        ``merges.txt`` (+ ``added_tokens.json`` / tokenizer_config's
        ``added_tokens_decoder``). FileNotFoundError when it has neither (openai-whisper
        ``.pt`` checkpoints: use ``from_bundled`` / ``for_vocabulary_size``)."""
        tokenizer = checkpoint_tokenizer(directory, cls, num_languages)
        if tokenizer is None:
            raise FileNotFoundError(f"{os.fspath(directory)}: no Whisper tokenizer files "
                                    f"(tokenizer.json, or vocab.json and merges.txt).")
        return tokenizer

    @classmethod
    def from_bundled(cls, multilingual=True, num_languages=99):
        """openai-whisper's vocabularies (``whisper.tokenizer.get_tokenizer(multilingual,
        num_languages=...)``): English (multilingual=False, 51864 ids), multilingual (51865)
        or v3 (num_languages=100, 51866), from the bundled ``tokenizers/whisper/`` files."""
        directory = bundled_directory(BUNDLED[bool(multilingual)])
        return cls(os.path.join(directory, "vocab.json"), os.path.join(directory, "merges.txt"),
                   num_languages=num_languages)

    @classmethod
    def for_vocabulary_size(cls, vocabulary_size):
        """The bundled vocabulary a model with ``vocabulary_size`` output ids was trained on
        (openai-whisper's rule: multilingual from 51865, num_languages = size - 51765 -
        multilingual)."""
        size = int(vocabulary_size)
        multilingual = size >= 51865
        num_languages = size - 51765 - int(multilingual)
        if not 1 <= num_languages <= MAX_LANGUAGES:
            raise ValueError(f"WhisperTokenizer: no Whisper vocabulary has {size} ids (51864 "
                             f"English, 51865 multilingual, 51866 large-v3).")
        return cls.from_bundled(multilingual, num_languages)

    # -- config and assets ---------------------------------------------------------------------
    def get_config(self):
        return {"num_languages": self.num_languages if self.num_languages is not None
                else self._num_languages_asked}


def checkpoint_tokenizer(directory, cls=WhisperTokenizer, num_languages=None):
    """A ``cls`` from a checkpoint directory's tokenizer files (``tokenizer.json`` first, as
    transformers loads it, else ``vocab.json`` + ``merges.txt`` + added tokens); None when
    it ships neither (the converter hook's contract)."""
    directory = os.fspath(directory)
    fast = os.path.join(directory, "tokenizer.json")
    if os.path.isfile(fast):
        return cls.from_tokenizer_json(fast, num_languages=num_languages)
    vocab_path = os.path.join(directory, "vocab.json")
    merges_path = os.path.join(directory, "merges.txt")
    if not (os.path.isfile(vocab_path) and os.path.isfile(merges_path)):
        return None
    vocabulary = read_vocabulary(vocab_path)
    added = read_json(directory, "added_tokens.json") or {}
    config = read_json(directory, "tokenizer_config.json") or {}
    for index, spec in (config.get("added_tokens_decoder") or {}).items():
        added.setdefault(spec["content"], int(index))
    if added:
        vocabulary.update(check_vocabulary(added, os.path.join(directory, "added_tokens.json")))
    return cls(vocabulary, merges_path, num_languages=num_languages)


def bundled_search_path():
    """Where the bundled vocabularies are looked for: $ZOO_TOKENIZERS_DIR, the source
    checkout's top-level ``tokenizers/``, then where a pip install puts them
    (``<prefix>/share/zoo/tokenizers``, pyproject's data-files)."""
    here = os.path.dirname(os.path.abspath(__file__))
    places = []
    if os.environ.get(TOKENIZERS_DIR_ENV):
        places.append(os.environ[TOKENIZERS_DIR_ENV])
    places.append(os.path.join(here, os.pardir, os.pardir, os.pardir, "tokenizers"))
    for prefix in (sys.prefix, getattr(site, "USER_BASE", None) or ""):
        if prefix:
            places.append(os.path.join(prefix, "share", "zoo", "tokenizers"))
    return [os.path.normpath(p) for p in places]


def bundled_directory(name):
    """tokenizers/whisper/<name> (name "gpt2" or "multilingual") on the search path."""
    places = bundled_search_path()
    for place in places:
        directory = os.path.join(place, "whisper", name)
        if all(os.path.isfile(os.path.join(directory, f)) for f in ("vocab.json", "merges.txt")):
            return directory
    raise FileNotFoundError(
        f"WhisperTokenizer: the bundled '{name}' vocabulary (whisper/{name}/vocab.json and "
        f"merges.txt) is in none of {places}. In a source checkout it is in tokenizers/ "
        f"(remake it with `python tokenizers/prepare_whisper.py`, openai-whisper installed); "
        f"a pip install puts it in <prefix>/share/zoo/tokenizers; or set "
        f"{TOKENIZERS_DIR_ENV} to a folder that holds whisper/{name}/.")
