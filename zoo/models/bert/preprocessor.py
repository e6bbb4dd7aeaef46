"""BertPreprocessor: strings -> the backbone's int32 inputs.

    preprocessor = BertPreprocessor(tokenizer, sequence_length=8)
    preprocessor("The quick fox")                  # one example: arrays of shape (8,)
    preprocessor(["a b", "c"])                     # a batch: (2, 8)
    preprocessor(("question?", "the context"))     # a pair (a tuple holds segments)
    preprocessor([("q1", "c1"), ("q2", "c2")])     # a batch of pairs
    preprocessor(x, y)  -> (x, y);  preprocessor(x, y, w) -> (x, y, w)

Layout ``[CLS] a [SEP] b [SEP] [PAD]...``: ``segment_ids`` 0 for [CLS], ``a`` and its
[SEP], 1 for ``b`` and its [SEP]; ``padding_mask`` 1 on tokens, 0 on padding. Segments
longer than the budget are truncated from their ends:
- ``"round_robin"`` (default) gives the tokens out one per segment in turn; an odd one left
  goes to the earlier segment (for pairs: transformers' Python BertTokenizer, which cuts
  the longest segment one token at a time);
- ``"longest_first"``: pairs cut exactly as transformers' default (Rust) BertTokenizer
  does: a segment no longer than half the budget is kept whole, otherwise both get half
  and the longer one the odd token (more than two segments: as "round_robin");
- ``"waterfall"`` fills the first segment, then the next.
"""
import numpy as np

from zoo.models.bert.tokenizer import BertTokenizer
from zoo.models.preprocessing import Preprocessor
from zoo.saving import serialization
from zoo.tokenizers.fast_tokenizer import as_text

TRUNCATE = ("round_robin", "longest_first", "waterfall")


def allot(lengths, budget, truncate):
    """How many tokens each segment keeps when ``sum(lengths)`` may exceed ``budget``."""
    if sum(lengths) <= budget:
        return list(lengths)
    kept = [0] * len(lengths)
    if truncate == "longest_first" and len(lengths) == 2:
        short = min(lengths)
        if 2 * short <= budget:
            kept_short, kept_long = short, budget - short
        else:
            kept_short, kept_long = budget // 2, budget - budget // 2
        return [kept_short, kept_long] if lengths[0] <= lengths[1] else [kept_long, kept_short]
    if truncate == "waterfall" or len(lengths) == 1:
        for i, n in enumerate(lengths):
            kept[i] = min(n, budget)
            budget -= kept[i]
        return kept
    active = [i for i, n in enumerate(lengths) if n > 0]
    while budget > 0 and active:  # full rounds at once, then the first segments get one more
        share = budget // len(active)
        if share == 0:
            for i in active[:budget]:
                kept[i] += 1
            break
        for i in active:
            take = min(share, lengths[i] - kept[i])
            kept[i] += take
            budget -= take
        active = [i for i in active if kept[i] < lengths[i]]
    return kept


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None and sample_weight is None:
        return x
    if sample_weight is None:
        return x, y
    return x, y, sample_weight


@serialization.register_builtin
class BertPreprocessor(Preprocessor):
    tokenizer_cls = BertTokenizer

    def __init__(self, tokenizer=None, sequence_length=512, truncate="round_robin"):
        if isinstance(tokenizer, dict):
            tokenizer = serialization.deserialize(tokenizer)
        self.tokenizer = tokenizer
        self.sequence_length = int(sequence_length)
        if truncate not in TRUNCATE:
            raise ValueError(f"{type(self).__name__}: truncate must be one of {TRUNCATE}, "
                             f"got {truncate!r}.")
        self.truncate = truncate

    # -- inputs -----------------------------------------------------------------------------
    def _segments(self, x):
        """-> (list of segments, each a list of strings over the batch; batched?)."""
        name = type(self).__name__
        if isinstance(x, (str, bytes, np.str_, np.bytes_)):
            return [[as_text(x, name)]], False
        if isinstance(x, tuple):  # segments
            if not x:
                raise ValueError(f"{name}: got an empty tuple of segments.")
            parts = [self._segments(s) for s in x]
            batched = {b for _, b in parts}
            if len(batched) != 1:
                raise ValueError(f"{name}: the segments of a pair must all be strings or all "
                                 f"be batches of strings.")
            segments = [p[0][0] for p in parts]
            if len({len(s) for s in segments}) != 1:
                raise ValueError(f"{name}: segments have different batch sizes "
                                 f"{[len(s) for s in segments]}.")
            return segments, batched.pop()
        if hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # a framework tensor
            x = np.asarray(x.numpy())
        if isinstance(x, np.ndarray) and x.ndim == 2:  # a batch of pairs as a 2D array
            return [[as_text(t, name) for t in x[:, j]] for j in range(x.shape[1])], True
        if isinstance(x, (list, np.ndarray)):
            items = list(x)
            if items and all(isinstance(e, (tuple, list)) for e in items):  # pairs
                widths = {len(e) for e in items}
                if len(widths) != 1:
                    raise ValueError(f"{name}: a batch of pairs needs the same number of "
                                     f"segments in every example, got {sorted(widths)}.")
                return [[as_text(e[j], name) for e in items] for j in range(widths.pop())], True
            return [[as_text(e, name) for e in items]], True
        raise TypeError(f"{name}: expected a string, a list of strings, or a tuple of "
                        f"segments, got {type(x).__name__}.")

    # -- packing ----------------------------------------------------------------------------
    def pack(self, segments):
        """Token id lists per segment (each a list over the batch) -> dict of int32 arrays
        (batch, sequence_length)."""
        tokenizer = self._check_tokenizer()
        n_seg = len(segments)
        length = self.sequence_length
        budget = length - 1 - n_seg
        if budget < 0:
            raise ValueError(f"{type(self).__name__}: sequence_length={length} is too short "
                             f"for [CLS] and {n_seg} [SEP] token(s).")
        batch = len(segments[0])
        token_ids = np.full((batch, length), tokenizer.pad_token_id, np.int32)
        segment_ids = np.zeros((batch, length), np.int32)
        padding_mask = np.zeros((batch, length), np.int32)
        cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
        for row in range(batch):
            pieces = [segments[s][row] for s in range(n_seg)]
            kept = allot([len(p) for p in pieces], budget, self.truncate)
            token_ids[row, 0] = cls
            pos = 1
            for s, (piece, n) in enumerate(zip(pieces, kept)):
                token_ids[row, pos:pos + n] = piece[:n]
                token_ids[row, pos + n] = sep
                segment_ids[row, pos:pos + n + 1] = s
                pos += n + 1
            padding_mask[row, :pos] = 1
        return {"token_ids": token_ids, "segment_ids": segment_ids,
                "padding_mask": padding_mask}

    def preprocess(self, x):
        """Strings (see the module docstring) -> (dict of int32 arrays, batched?)."""
        tokenizer = self._check_tokenizer()
        segments, batched = self._segments(x)
        ids = [tokenizer.tokenize(texts) for texts in segments]
        return self.pack(ids), batched

    def __call__(self, x, y=None, sample_weight=None):
        packed, batched = self.preprocess(x)
        if not batched:
            packed = {k: v[0] for k, v in packed.items()}
        return pack_x_y_sample_weight(packed, y, sample_weight)

    # -- config and assets -------------------------------------------------------------------
    def get_config(self):
        return {"sequence_length": self.sequence_length, "truncate": self.truncate,
                **super().get_config()}
