"""WhisperTimestampRules: the logits processor that makes Whisper's timestamp tokens
well-formed, inside the compiled loop (every row at once, zoo ops only).

At every step, over the tokens generated so far (columns ``begin .. index`` of the buffer):

* ``<|notimestamps|>`` is never chosen;
* timestamps come in pairs: after a pair (or at the start) the next token is text; after a
  lone timestamp it is a timestamp or the end (no text);
* timestamps never decrease, and a closed pair's time is not repeated;
* the first token is a timestamp, at most ``max_initial_timestamp_index`` (50: 1.00 s);
* when the total probability of the timestamps beats every text token, a timestamp is
  forced.

These are openai-whisper's ``ApplyTimestampRules`` and transformers'
``WhisperTimeStampLogitsProcessor``; applied after the suppressed tokens, as both do.
"""
import numpy as np

from zoo import ops
from zoo.generation.logits_processors import NEGATIVE_LOGIT, LogitsProcessor


class WhisperTimestampRules(LogitsProcessor):
    def __init__(self, timestamp_begin_id, no_timestamps_id, end_token_id,
                 max_initial_timestamp_index=50):
        self.timestamp_begin_id = int(timestamp_begin_id)
        self.no_timestamps_id = int(no_timestamps_id)
        self.end_token_id = int(end_token_id)
        self.max_initial_timestamp_index = None if max_initial_timestamp_index is None \
            else int(max_initial_timestamp_index)

    def prepare(self, vocabulary_size):
        first = self.timestamp_begin_id
        ids = np.arange(vocabulary_size, dtype=np.int32)
        vocabulary = ops.convert_to_tensor(ids)                               # (V,)
        is_time = ops.convert_to_tensor(ids >= first)
        is_text_before_end = ops.convert_to_tensor(ids < self.end_token_id)
        never = ops.convert_to_tensor(ids == self.no_timestamps_id)
        initial_limit = vocabulary_size if self.max_initial_timestamp_index is None else \
            first + self.max_initial_timestamp_index
        not_initial = ops.convert_to_tensor((ids < first) | (ids > initial_limit))

        def rules(logits, context):
            tokens, index, step = context.token_ids, context.index, context.step
            length = tokens.shape[1]
            columns = ops.arange(length, dtype="int32")
            begin = ops.subtract(index, step)
            generated = ops.logical_and(ops.greater_equal(columns, begin),
                                        ops.less(columns, index))            # (L,)
            previous = _column(tokens, ops.subtract(index, 1), length)       # (B,)
            before = _column(tokens, ops.subtract(index, 2), length)
            last_was_time = ops.logical_and(ops.greater_equal(step, 1),
                                            ops.greater_equal(previous, first))
            penultimate_was_time = ops.logical_or(ops.less(step, 2),
                                                  ops.greater_equal(before, first))
            after_pair = ops.expand_dims(ops.logical_and(last_was_time, penultimate_was_time), 1)
            single = ops.logical_and(last_was_time, ops.logical_not(penultimate_was_time))
            after_single = ops.expand_dims(single, 1)
            banned = ops.logical_or(ops.logical_and(after_pair, is_time),
                                    ops.logical_and(after_single, is_text_before_end))
            # timestamps never decrease: the latest one so far (they are non-decreasing)
            times = ops.where(ops.logical_and(ops.expand_dims(generated, 0),
                                              ops.greater_equal(tokens, first)), tokens, -1)
            latest = ops.max(times, axis=1)                                   # (B,) or -1
            lowest = ops.where(ops.less(latest, 0), first,
                               ops.where(single, latest, ops.add(latest, 1)))
            too_early = ops.logical_and(is_time, ops.less(vocabulary,
                                                          ops.expand_dims(lowest, 1)))
            banned = ops.logical_or(banned, too_early)
            banned = ops.logical_or(banned, never)
            banned = ops.logical_or(banned, ops.logical_and(ops.equal(step, 0), not_initial))
            logits = ops.where(banned, NEGATIVE_LOGIT, logits)
            # a timestamp when their total probability beats every text token
            log_probs = ops.log_softmax(logits, axis=-1)
            time_mass = ops.logsumexp(ops.where(is_time, log_probs, NEGATIVE_LOGIT), axis=-1)
            best_text = ops.max(ops.where(is_time, NEGATIVE_LOGIT, log_probs), axis=-1)
            force_time = ops.expand_dims(ops.greater(time_mass, best_text), 1)
            return ops.where(ops.logical_and(force_time, ops.logical_not(is_time)),
                             NEGATIVE_LOGIT, logits)
        return rules

    def get_config(self):
        return {"timestamp_begin_id": self.timestamp_begin_id,
                "no_timestamps_id": self.no_timestamps_id, "end_token_id": self.end_token_id,
                "max_initial_timestamp_index": self.max_initial_timestamp_index}


def _column(tokens, column, length):
    """tokens[:, column] (B,) for a scalar tensor column (clipped into range: callers mask
    the columns before the first generated one)."""
    column = ops.clip(column, 0, length - 1)
    return ops.squeeze(ops.take(tokens, ops.reshape(column, (1,)), axis=1), 1)
