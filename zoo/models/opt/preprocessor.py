"""OPTCausalLMPreprocessor: strings -> next-token training batches (and generation inputs).

    preprocessor = OPTCausalLMPreprocessor(tokenizer, sequence_length=8)
    x, y, sample_weight = preprocessor(["a b c", "d"])
    x["token_ids"], x["padding_mask"]   (B, S) int32   "</s> a b c </s> <pad> ..."
    y                                   (B, S) int32   the same ids shifted left by one
    sample_weight                       (B, S) float32 1 where y is a real next token

Each text becomes ``</s>`` + its tokens (+ ``</s>`` with ``add_end_token``), cut to
``sequence_length + 1`` ids and right-padded with ``<pad>``; x is that without its last
id, y without its first, so position t learns to predict token t + 1 and padding weighs 0.
``generate_preprocess`` packs prompts without the end token (for generation);
``generate_postprocess`` turns ids back into strings.
"""
import numpy as np

from zoo.models.opt.tokenizer import OPTTokenizer
from zoo.models.preprocessing import Preprocessor
from zoo.saving import serialization
from zoo.tokenizers.fast_tokenizer import as_text


def _texts(x, name):
    """-> (list of str, batched?)."""
    if isinstance(x, (str, bytes, np.str_, np.bytes_)):
        return [as_text(x, name)], False
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # a framework tensor
        x = np.asarray(x.numpy())
    if isinstance(x, np.ndarray) and x.ndim != 1:
        raise ValueError(f"{name}: expected a 1D batch of strings, got shape {x.shape}.")
    if isinstance(x, (list, tuple, np.ndarray)):
        return [as_text(t, name) for t in x], True
    raise TypeError(f"{name}: expected a string or a list of strings, got "
                    f"{type(x).__name__}.")


@serialization.register_builtin
class OPTCausalLMPreprocessor(Preprocessor):
    tokenizer_cls = OPTTokenizer

    def __init__(self, tokenizer=None, sequence_length=2048, add_start_token=True,
                 add_end_token=True):
        if isinstance(tokenizer, dict):
            tokenizer = serialization.deserialize(tokenizer)
        if int(sequence_length) < 1:
            raise ValueError(f"{type(self).__name__}: sequence_length must be >= 1, got "
                             f"{sequence_length}.")
        self.tokenizer = tokenizer
        self.sequence_length = int(sequence_length)
        self.add_start_token = bool(add_start_token)
        self.add_end_token = bool(add_end_token)

    def pack(self, token_lists, length, add_end_token):
        """Lists of ids -> (token_ids, padding_mask), int32 (B, length): start token, ids,
        optional end token, cut to ``length``, right-padded."""
        tokenizer = self._check_tokenizer()
        token_ids = np.full((len(token_lists), length), tokenizer.pad_token_id, np.int32)
        padding_mask = np.zeros((len(token_lists), length), np.int32)
        for row, ids in enumerate(token_lists):
            ids = list(ids)
            if self.add_start_token:
                ids = [tokenizer.start_token_id] + ids
            if add_end_token:
                ids = ids + [tokenizer.end_token_id]
            ids = ids[:length]
            token_ids[row, :len(ids)] = ids
            padding_mask[row, :len(ids)] = 1
        return token_ids, padding_mask

    def __call__(self, x, y=None, sample_weight=None):
        name = type(self).__name__
        if y is not None:
            raise ValueError(f"{name} makes its own labels (the next tokens); pass y=None.")
        texts, batched = _texts(x, name)
        ids, mask = self.pack(self._check_tokenizer().tokenize(texts), self.sequence_length + 1,
                              self.add_end_token)
        inputs = {"token_ids": ids[:, :-1], "padding_mask": mask[:, :-1]}
        labels = ids[:, 1:]
        weights = mask[:, 1:].astype(np.float32)
        if sample_weight is not None:  # one weight per example scales its tokens
            weights = weights * np.asarray(sample_weight, np.float32).reshape(-1, 1)
        if not batched:
            inputs = {k: v[0] for k, v in inputs.items()}
            labels, weights = labels[0], weights[0]
        return inputs, labels, weights

    def generate_preprocess(self, x, sequence_length=None):
        """Prompts -> {"token_ids", "padding_mask"} (B, sequence_length), start token first,
        no end token, right-padded."""
        texts, batched = _texts(x, f"{type(self).__name__}.generate_preprocess")
        ids, mask = self.pack(self._check_tokenizer().tokenize(texts),
                              int(sequence_length or self.sequence_length), False)
        out = {"token_ids": ids, "padding_mask": mask}
        return out if batched else {k: v[0] for k, v in out.items()}

    def generate_postprocess(self, x):
        """{"token_ids", "padding_mask"} -> strings, without padding and special tokens."""
        tokenizer = self._check_tokenizer()
        ids = np.asarray(x["token_ids"])
        mask = np.asarray(x.get("padding_mask", np.ones_like(ids))).astype(bool)
        single = ids.ndim == 1
        ids, mask = np.atleast_2d(ids), np.atleast_2d(mask)
        special = {tokenizer.start_token_id, tokenizer.end_token_id, tokenizer.pad_token_id}
        texts = [tokenizer.detokenize([int(t) for t, m in zip(row, keep)
                                       if m and int(t) not in special])
                 for row, keep in zip(ids, mask)]
        return texts[0] if single else texts

    def get_config(self):
        return {"sequence_length": self.sequence_length,
                "add_start_token": self.add_start_token, "add_end_token": self.add_end_token,
                **super().get_config()}
