"""BertTokenizer: WordPiece with BERT's special tokens ([CLS] [SEP] [PAD] [MASK] [UNK]).

    tokenizer = BertTokenizer("vocab.txt", lowercase=True)     # or a list of tokens
    tokenizer.tokenize("Hello world!")   -> [7592, 2088, 999]
    tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id, ...

``lowercase`` is BERT's ``do_lower_case`` (uncased checkpoints); ``strip_accents=None``
strips accents exactly when lowercasing, as BERT does. The config holds only these
options; the vocabulary travels as ``vocab.txt`` through ``save_assets``/``load_assets``.
"""
from zoo.models.preprocessing import Tokenizer
from zoo.saving.serialization import register_builtin
from zoo.tokenizers.word_piece import WordPieceTokenizer

SPECIAL_TOKENS = {"cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]",
                  "unk": "[UNK]"}


@register_builtin
class BertTokenizer(WordPieceTokenizer, Tokenizer):
    # what a transformers BERT checkpoint makes it from (zoo/models/bert/convert.py)
    checkpoint_files = ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json")
    cls_token_id = sep_token_id = pad_token_id = mask_token_id = unk_token_id = None

    def __init__(self, vocabulary=None, lowercase=False, strip_accents=None, **kwargs):
        kwargs.setdefault("oov_token", SPECIAL_TOKENS["unk"])
        kwargs.setdefault("special_tokens", list(SPECIAL_TOKENS.values()))
        super().__init__(vocabulary, lowercase=lowercase, strip_accents=strip_accents,
                         **kwargs)

    def set_vocabulary(self, vocabulary):
        super().set_vocabulary(vocabulary)
        missing = [t for t in SPECIAL_TOKENS.values() if t not in self._ids]
        if missing:
            self._backend = self.vocabulary = None
            raise ValueError(f"BertTokenizer: the vocabulary lacks the special token(s) "
                             f"{missing}; a BERT vocabulary needs {list(SPECIAL_TOKENS.values())}.")
        for key, token in SPECIAL_TOKENS.items():
            setattr(self, f"{key}_token_id", self._ids[token])

    def get_config(self):
        config = super().get_config()
        defaults = WordPieceTokenizer().get_config()
        defaults.update(oov_token=SPECIAL_TOKENS["unk"],
                        special_tokens=list(SPECIAL_TOKENS.values()))
        # BERT's own options always; the general WordPiece ones only when changed
        return {k: v for k, v in config.items()
                if k in ("lowercase", "strip_accents") or v != defaults[k]}
