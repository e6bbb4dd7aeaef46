"""BertMaskedLMPreprocessor: strings -> randomly masked inputs and labels for pre-training.

    x, y, sample_weight = BertMaskedLMPreprocessor(tokenizer, sequence_length=128)(texts)

After packing like BertPreprocessor, each real token (not [CLS]/[SEP]/[PAD]) is selected
with probability ``mask_selection_rate``, at most ``mask_selection_length`` per example.
A selected token becomes [MASK] with probability ``mask_token_rate``, a random token with
``random_token_rate``, and stays itself otherwise.

    x["token_ids"]       (B, S)  the masked ids        (+ segment_ids, padding_mask)
    x["mask_positions"]  (B, L)  where the selected tokens are (0 past the last one)
    y                    (B, L)  their original ids
    sample_weight        (B, L)  1.0 for a selection, 0.0 for padding

Every call draws new masks (from ``seed`` when given), so each epoch sees new ones.
"""
import numpy as np

from zoo.models.bert.preprocessor import BertPreprocessor
from zoo.saving import serialization


@serialization.register_builtin
class BertMaskedLMPreprocessor(BertPreprocessor):
    def __init__(self, tokenizer=None, sequence_length=512, truncate="round_robin",
                 mask_selection_rate=0.15, mask_selection_length=96, mask_token_rate=0.8,
                 random_token_rate=0.1, seed=None):
        super().__init__(tokenizer, sequence_length=sequence_length, truncate=truncate)
        name = type(self).__name__
        for arg, value in (("mask_selection_rate", mask_selection_rate),
                           ("mask_token_rate", mask_token_rate),
                           ("random_token_rate", random_token_rate)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: {arg} must be in [0, 1], got {value}.")
        if mask_token_rate + random_token_rate > 1.0:
            raise ValueError(f"{name}: mask_token_rate + random_token_rate must be at most 1, "
                             f"got {mask_token_rate} + {random_token_rate}.")
        if int(mask_selection_length) < 1:
            raise ValueError(f"{name}: mask_selection_length must be >= 1, "
                             f"got {mask_selection_length}.")
        self.mask_selection_rate = float(mask_selection_rate)
        self.mask_selection_length = int(mask_selection_length)
        self.mask_token_rate = float(mask_token_rate)
        self.random_token_rate = float(random_token_rate)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def mask(self, packed):
        """Mask packed inputs (dict of (B, S) arrays) -> (x, y, sample_weight)."""
        tokenizer = self._check_tokenizer()
        ids = packed["token_ids"]
        batch, length = ids.shape
        limit = self.mask_selection_length
        special = np.isin(ids, [tokenizer.cls_token_id, tokenizer.sep_token_id,
                                tokenizer.pad_token_id])
        candidates = ~special & (packed["padding_mask"] > 0)
        chosen = candidates & (self._rng.random((batch, length)) < self.mask_selection_rate)
        # keep at most `limit` per row: a random subset of the chosen positions
        order = np.where(chosen, self._rng.random((batch, length)), np.inf)
        keep = np.argsort(order, axis=1, kind="stable")[:, :limit]
        count = np.minimum(chosen.sum(axis=1), limit)
        valid = np.arange(keep.shape[1])[None, :] < count[:, None]
        positions = np.sort(np.where(valid, keep, length), axis=1)  # in reading order
        valid = positions < length
        positions = np.where(valid, positions, 0).astype(np.int32)
        if positions.shape[1] < limit:  # sequences shorter than the limit
            pad = np.zeros((batch, limit - positions.shape[1]), np.int32)
            positions = np.concatenate([positions, pad], axis=1)
            valid = np.concatenate([valid, pad.astype(bool)], axis=1)

        rows = np.arange(batch)[:, None]
        labels = np.where(valid, ids[rows, positions], 0).astype(np.int32)
        draw = self._rng.random(positions.shape)
        masked_ids = ids.copy()
        to_mask = valid & (draw < self.mask_token_rate)
        to_random = valid & (draw >= self.mask_token_rate) & (
            draw < self.mask_token_rate + self.random_token_rate)
        random_ids = self._rng.integers(0, tokenizer.vocabulary_size(), positions.shape)
        new = np.where(to_mask, tokenizer.mask_token_id, np.where(to_random, random_ids, labels))
        r, c = np.nonzero(valid)
        masked_ids[r, positions[r, c]] = new[r, c]
        x = {**packed, "token_ids": masked_ids, "mask_positions": positions}
        return x, labels, valid.astype(np.float32)

    def __call__(self, x, y=None, sample_weight=None):
        if y is not None or sample_weight is not None:
            raise ValueError(f"{type(self).__name__} makes its own labels from the text; "
                             f"pass only x (strings).")
        packed, batched = self.preprocess(x)
        x, y, sample_weight = self.mask(packed)
        if not batched:
            x = {k: v[0] for k, v in x.items()}
            y, sample_weight = y[0], sample_weight[0]
        return x, y, sample_weight

    def get_config(self):
        return {**super().get_config(), "mask_selection_rate": self.mask_selection_rate,
                "mask_selection_length": self.mask_selection_length,
                "mask_token_rate": self.mask_token_rate,
                "random_token_rate": self.random_token_rate, "seed": self.seed}
