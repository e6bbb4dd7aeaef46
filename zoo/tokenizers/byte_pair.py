"""BytePairTokenizer: byte-level BPE (GPT-2 style) on the Hugging Face ``tokenizers`` library.

    tokenizer = BytePairTokenizer("vocab.json", "merges.txt")   # or a dict and a list
    tokenizer.tokenize("Hello world")        # [15496, 995]
    tokenizer.tokenize(["a", "b c"])         # [[...], [...]]  (a list per string)
    tokenizer.detokenize([15496, 995])       # "Hello world"

The pipeline, all in Rust: map every byte of the text to a printable character, split with
GPT-2's pattern (words keep their leading space, digits, punctuation, runs of whitespace),
then apply the ranked merges inside each piece. No normalization, so any text round-trips.
``special_tokens`` found in the vocabulary (e.g. ``</s>``) are matched in the raw text first
and stay one token. Merges are "a b" strings (or pairs), highest priority first.

Files (the format GPT-2 / OPT checkpoints ship): ``vocab.json`` (token -> id) and
``merges.txt`` (``#version`` header, one "a b" merge per line). The config holds only
options; ``save_assets``/``load_assets`` write and read the two files, atomically.
"""
import json
import os

import numpy as np

from zoo.tokenizers.fast_tokenizer import FastTokenizer

VOCAB_FILE = "vocab.json"
MERGES_FILE = "merges.txt"


def read_vocabulary(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"BPE vocabulary file not found: {path}")
    with open(path, encoding="utf-8") as f:
        try:
            vocabulary = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON ({error}).") from error
    return check_vocabulary(vocabulary, path)


def check_vocabulary(vocabulary, where="vocabulary"):
    if not isinstance(vocabulary, dict) or not vocabulary:
        raise ValueError(f"BPE {where}: expected a non-empty mapping of token -> id.")
    out = {}
    for token, index in vocabulary.items():
        if not isinstance(token, str) or isinstance(index, bool) or not isinstance(
                index, (int, np.integer)) or index < 0:
            raise ValueError(f"BPE {where}: entry {token!r}: {index!r} is not token -> "
                             f"non-negative integer id.")
        out[token] = int(index)
    return out


def read_merges(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"BPE merges file not found: {path}")
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f]
    if lines and lines[0].startswith("#version"):
        lines = lines[1:]
    return check_merges([line for line in lines if line], path)


def check_merges(merges, where="merges"):
    out = []
    for i, merge in enumerate(merges):
        if isinstance(merge, (list, tuple)) and len(merge) == 2:
            pair = (str(merge[0]), str(merge[1]))
        elif isinstance(merge, str) and len(merge.split(" ")) == 2:
            pair = tuple(merge.split(" "))
        else:
            raise ValueError(f"BPE {where}: merge {i} ({merge!r}) is not two tokens "
                             f"separated by one space.")
        if not pair[0] or not pair[1]:
            raise ValueError(f"BPE {where}: merge {i} ({merge!r}) has an empty token.")
        out.append(pair)
    return out


def _write_atomic(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class BytePairTokenizer(FastTokenizer):
    def __init__(self, vocabulary=None, merges=None, add_prefix_space=False,
                 special_tokens=None):
        self.add_prefix_space = bool(add_prefix_space)
        self.special_tokens = list(special_tokens or [])
        self._backend = None
        self.vocabulary = self.merges = None
        if vocabulary is not None or merges is not None:
            if vocabulary is None or merges is None:
                raise ValueError(f"{type(self).__name__}: pass both vocabulary and merges.")
            self.set_vocabulary_and_merges(vocabulary, merges)

    # -- vocabulary -------------------------------------------------------------------------
    def set_vocabulary_and_merges(self, vocabulary, merges):
        """A dict (token -> id) or ``vocab.json`` path, and a list of merges or a
        ``merges.txt`` path."""
        name = type(self).__name__
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = read_vocabulary(vocabulary)
        elif isinstance(vocabulary, dict):
            vocabulary = check_vocabulary(vocabulary)
        else:
            raise TypeError(f"{name}: vocabulary must be a dict of token -> id or the path of "
                            f"a vocab.json, got {type(vocabulary).__name__}.")
        if isinstance(merges, (str, os.PathLike)):
            merges = read_merges(merges)
        elif isinstance(merges, (list, tuple)):
            merges = check_merges(merges)
        else:
            raise TypeError(f"{name}: merges must be a list of 'a b' strings or the path of a "
                            f"merges.txt, got {type(merges).__name__}.")
        for i, (a, b) in enumerate(merges):
            for token in (a, b, a + b):
                if token not in vocabulary:
                    raise ValueError(f"{name}: merge {i} ({a} {b}) uses {token!r}, which is not "
                                     f"in the vocabulary.")
        self.vocabulary, self.merges = vocabulary, merges
        self._tokens = {i: t for t, i in vocabulary.items()}
        self._backend = self._build_backend()

    def _build_backend(self):
        from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers
        from tokenizers.models import BPE

        backend = Tokenizer(BPE(vocab=dict(self.vocabulary), merges=list(self.merges),
                                continuing_subword_prefix="", end_of_word_suffix="",
                                fuse_unk=False))
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=self.add_prefix_space)
        backend.decoder = decoders.ByteLevel()
        special = [t for t in self.special_tokens if t in self.vocabulary]
        if special:
            backend.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                        for t in special])
        return backend

    def _require_vocabulary(self):
        if self._backend is None:
            raise ValueError(f"{type(self).__name__} has no vocabulary: pass vocabulary= and "
                             f"merges=, or call load_assets(directory).")
        return self._backend

    def get_vocabulary(self):
        """The tokens in id order (None where an id is unused)."""
        self._require_vocabulary()
        tokens = [None] * self.vocabulary_size()
        for token, index in self.vocabulary.items():
            tokens[index] = token
        return tokens

    def vocabulary_size(self):
        self._require_vocabulary()
        return max(self.vocabulary.values()) + 1

    def id_to_token(self, id):
        self._require_vocabulary()
        if int(id) not in self._tokens:
            raise ValueError(f"{type(self).__name__}: id {int(id)} is not in the vocabulary "
                             f"({self.vocabulary_size()} ids).")
        return self._tokens[int(id)]

    def token_to_id(self, token):
        self._require_vocabulary()
        if token not in self.vocabulary:
            raise ValueError(f"{type(self).__name__}: token {token!r} is not in the vocabulary.")
        return self.vocabulary[token]

    # -- config and assets --------------------------------------------------------------------
    def get_config(self):
        return {"add_prefix_space": self.add_prefix_space,
                "special_tokens": list(self.special_tokens)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_assets(self, directory):
        self._require_vocabulary()
        _write_atomic(os.path.join(directory, VOCAB_FILE),
                      json.dumps(self.vocabulary, ensure_ascii=False, indent=0))
        _write_atomic(os.path.join(directory, MERGES_FILE),
                      "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges))

    def load_assets(self, directory):
        self.set_vocabulary_and_merges(os.path.join(directory, VOCAB_FILE),
                                       os.path.join(directory, MERGES_FILE))
