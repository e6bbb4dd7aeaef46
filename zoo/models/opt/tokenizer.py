"""OPTTokenizer: byte-level BPE (GPT-2's) with OPT's special tokens.

    tokenizer = OPTTokenizer("vocab.json", "merges.txt")      # or a dict and a list
    tokenizer.tokenize("Hello world")   -> [31414, 232]
    tokenizer.start_token_id == tokenizer.end_token_id == 2   # "</s>" starts and ends
    tokenizer.pad_token_id == 1, tokenizer.unk_token_id == 3

``tokenize`` adds no special tokens (the preprocessor adds "</s>" in front). The special
tokens written in a text ("</s>", "<pad>", "<unk>") are matched as themselves.
"""
from zoo.models.preprocessing import Tokenizer
from zoo.saving.serialization import register_builtin
from zoo.tokenizers.byte_pair import BytePairTokenizer

# matched as single tokens in text, as OPT's tokenizer does ("<s>" is not one of them)
SPECIAL_TOKENS = {"pad": "<pad>", "end": "</s>", "unk": "<unk>"}
REQUIRED = ("pad", "end")


@register_builtin
class OPTTokenizer(BytePairTokenizer, Tokenizer):
    # what a transformers OPT checkpoint makes it from (zoo/models/opt/convert.py)
    checkpoint_files = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json")
    start_token_id = end_token_id = pad_token_id = unk_token_id = None

    def __init__(self, vocabulary=None, merges=None, add_prefix_space=False, **kwargs):
        kwargs.setdefault("special_tokens", list(SPECIAL_TOKENS.values()))
        super().__init__(vocabulary, merges, add_prefix_space=add_prefix_space, **kwargs)

    def set_vocabulary_and_merges(self, vocabulary, merges):
        super().set_vocabulary_and_merges(vocabulary, merges)
        missing = [SPECIAL_TOKENS[k] for k in REQUIRED if SPECIAL_TOKENS[k] not in self.vocabulary]
        if missing:
            self._backend = self.vocabulary = self.merges = None
            raise ValueError(f"OPTTokenizer: the vocabulary lacks the special token(s) "
                             f"{missing}; OPT needs '</s>' (start and end) and '<pad>'.")
        self.start_token_id = self.end_token_id = self.vocabulary[SPECIAL_TOKENS["end"]]
        self.pad_token_id = self.vocabulary[SPECIAL_TOKENS["pad"]]
        self.unk_token_id = self.vocabulary.get(SPECIAL_TOKENS["unk"])

    def get_config(self):
        config = super().get_config()
        if config["special_tokens"] == list(SPECIAL_TOKENS.values()):
            del config["special_tokens"]
        return config
