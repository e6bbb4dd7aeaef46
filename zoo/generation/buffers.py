"""NumPy layouts of generation: the callers' right-padded batches <-> the loop's buffer.

The buffer (B, L) int32 holds each prompt right-aligned in columns [0, P) (left padding,
as transformers does) and padding after; its mask (B, L) marks the prompt's real tokens and
every column from P on (generated tokens are real). Positions come from the mask, so a
padded row is the same computation as the row alone.
"""
import numpy as np

from zoo import ops
from zoo.random.seed_generator import draw_seed


def left_pad(token_ids, padding_mask):
    """Rows' real tokens, in order, right-aligned -> (ids (B, P), mask (B, P) bool,
    lengths (B,)), P the longest prompt."""
    mask = np.asarray(padding_mask).astype(bool)
    lengths = mask.sum(axis=1)
    width = int(lengths.max())
    ids = np.zeros((mask.shape[0], width), np.int32)
    out_mask = np.zeros((mask.shape[0], width), bool)
    for row, (tokens, keep) in enumerate(zip(np.asarray(token_ids), mask)):
        real = tokens[keep]
        ids[row, width - len(real):] = real
        out_mask[row, width - len(real):] = True
    return ids, out_mask, lengths


def make_buffer(prompt_ids, prompt_mask, total, pad_id):
    """-> (buffer (B, total) int32, mask (B, total) int32) with the prompts in [0, P)."""
    batch, width = prompt_ids.shape
    buffer = np.full((batch, total), pad_id, np.int32)
    buffer[:, :width] = np.where(prompt_mask, prompt_ids, pad_id)
    mask = np.ones((batch, total), np.int32)
    mask[:, :width] = prompt_mask
    return buffer, mask


def seed_tensor(seed):
    """An int (or None: drawn from zoo's global seed generator) -> (2,) int32 NumPy."""
    return np.asarray(ops.convert_to_numpy(draw_seed(seed)), np.int32).reshape(2)


def generated_mask(new_ids, stop_ids):
    """(B, N) new tokens -> (B, N) bool: real up to and including the first stop token."""
    if not stop_ids:
        return np.ones(new_ids.shape, bool)
    is_stop = np.isin(new_ids, stop_ids)
    stopped_before = np.cumsum(is_stop, axis=1) - is_stop > 0
    return ~stopped_before


def to_right_padded(buffer, prompt_mask, prompt_length, stop_ids, pad_id):
    """The finished buffer -> {"token_ids", "padding_mask"} (B, L): each row's prompt and
    new tokens from column 0, then padding."""
    buffer = np.asarray(buffer)
    keep = np.concatenate([prompt_mask, generated_mask(buffer[:, prompt_length:], stop_ids)],
                          axis=1)
    ids = np.full(buffer.shape, pad_id, np.int32)
    mask = np.zeros(buffer.shape, np.int32)
    for row in range(buffer.shape[0]):
        real = buffer[row][keep[row]]
        ids[row, :len(real)] = real
        mask[row, :len(real)] = 1
    return {"token_ids": ids, "padding_mask": mask}
