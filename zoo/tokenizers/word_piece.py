"""WordPieceTokenizer: BERT-style tokenization on the Hugging Face ``tokenizers`` library.

    tokenizer = WordPieceTokenizer(["[UNK]", "the", "qu", "##ick"], lowercase=True)
    tokenizer.tokenize("The quick")          # [1, 2, 3]
    tokenizer.tokenize(["a", "b c"])         # [[...], [...]]  (a list per string)
    tokenizer.detokenize([1, 2, 3])          # "the quick"

The pipeline, all in Rust: normalize (clean control characters, optionally lowercase and
strip accents, put spaces around CJK characters), split on whitespace and punctuation, then
greedy longest-match WordPiece with a ``##`` continuation prefix; a word longer than
``max_input_chars_per_word`` characters, or one the vocabulary cannot spell, becomes
``oov_token``. ``special_tokens`` found in the vocabulary are matched in the raw text
before normalization ("[MASK]" stays one token).

zoo owns the vocabulary format: ``vocab.txt``, one token per line, the line number is the
id. The config holds only options; ``save_assets``/``load_assets`` write and read the file.
"""
import os

from zoo.tokenizers.fast_tokenizer import FastTokenizer

VOCAB_FILE = "vocab.txt"


def read_vocabulary(path):
    """The tokens of a ``vocab.txt`` (one per line; line endings stripped, nothing else)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"WordPiece vocabulary file not found: {path}")
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f]


def write_vocabulary(path, tokens):
    """Write ``tokens`` one per line, atomically (temporary file, then rename)."""
    for token in tokens:
        if "\n" in token or "\r" in token:
            raise ValueError(f"Vocabulary token {token!r} contains a line break; it cannot "
                             f"be written to {os.path.basename(path)}.")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(token + "\n" for token in tokens)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class WordPieceTokenizer(FastTokenizer):
    def __init__(self, vocabulary=None, lowercase=False, strip_accents=None, split_on_cjk=True,
                 suffix_indicator="##", oov_token="[UNK]", max_input_chars_per_word=100,
                 special_tokens=None):
        self.lowercase = bool(lowercase)
        self.strip_accents = None if strip_accents is None else bool(strip_accents)
        self.split_on_cjk = bool(split_on_cjk)
        self.suffix_indicator = str(suffix_indicator)
        self.oov_token = str(oov_token)
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.special_tokens = list(special_tokens or [])
        self._backend = None
        self.vocabulary = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # -- vocabulary -------------------------------------------------------------------------
    def set_vocabulary(self, vocabulary):
        """A list of tokens (id = position) or the path of a ``vocab.txt``."""
        if isinstance(vocabulary, (str, os.PathLike)):
            tokens = read_vocabulary(vocabulary)
        elif isinstance(vocabulary, (list, tuple)):
            tokens = [str(t) for t in vocabulary]
        else:
            raise TypeError(f"{type(self).__name__}: vocabulary must be a list of tokens or "
                            f"the path of a vocab.txt, got {type(vocabulary).__name__}.")
        if not tokens:
            raise ValueError(f"{type(self).__name__}: the vocabulary is empty.")
        ids = {}
        for i, token in enumerate(tokens):
            ids[token] = i  # a repeated token keeps its last id (as BERT's own loader does)
        if self.oov_token not in ids:
            raise ValueError(f"{type(self).__name__}: the out-of-vocabulary token "
                             f"{self.oov_token!r} is not in the vocabulary.")
        self.vocabulary = tokens
        self._ids = ids
        self._backend = self._build_backend(ids)

    def _build_backend(self, ids):
        from tokenizers import (
            AddedToken,
            Tokenizer,
            decoders,
            normalizers,
            pre_tokenizers,
        )
        from tokenizers.models import WordPiece

        model = WordPiece(ids, unk_token=self.oov_token,
                          max_input_chars_per_word=self.max_input_chars_per_word,
                          continuing_subword_prefix=self.suffix_indicator)
        backend = Tokenizer(model)
        backend.normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=self.split_on_cjk,
            strip_accents=self.strip_accents, lowercase=self.lowercase)
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece(prefix=self.suffix_indicator)
        special = [t for t in self.special_tokens if t in ids]
        if special:
            backend.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                        for t in special])
        return backend

    def _require_vocabulary(self):
        if self._backend is None:
            raise ValueError(f"{type(self).__name__} has no vocabulary: pass vocabulary= or "
                             f"call load_assets(directory) / set_vocabulary(tokens).")
        return self._backend

    def get_vocabulary(self):
        self._require_vocabulary()
        return list(self.vocabulary)

    def vocabulary_size(self):
        self._require_vocabulary()
        return len(self.vocabulary)

    def id_to_token(self, id):
        self._require_vocabulary()
        id = int(id)
        if not 0 <= id < len(self.vocabulary):
            raise ValueError(f"{type(self).__name__}: id {id} is out of range for a vocabulary "
                             f"of {len(self.vocabulary)} tokens.")
        return self.vocabulary[id]

    def token_to_id(self, token):
        self._require_vocabulary()
        if token not in self._ids:
            raise ValueError(f"{type(self).__name__}: token {token!r} is not in the vocabulary.")
        return self._ids[token]

    # -- config and assets --------------------------------------------------------------------
    def get_config(self):
        return {"lowercase": self.lowercase, "strip_accents": self.strip_accents,
                "split_on_cjk": self.split_on_cjk, "suffix_indicator": self.suffix_indicator,
                "oov_token": self.oov_token,
                "max_input_chars_per_word": self.max_input_chars_per_word,
                "special_tokens": list(self.special_tokens)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_assets(self, directory):
        self._require_vocabulary()
        write_vocabulary(os.path.join(directory, VOCAB_FILE), self.vocabulary)

    def load_assets(self, directory):
        self.set_vocabulary(os.path.join(directory, VOCAB_FILE))
