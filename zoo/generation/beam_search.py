"""Beam search: ``num_beams`` sequences per prompt, ranked by their summed log
probabilities; the best one is returned. A beam that emitted a stop token keeps its score
and only grows padding.

The prefill runs each prompt once (B rows, and an encoder once per prompt); its last
position's top ``num_beams`` tokens start the beams, and the decoding state is copied to
the B * K rows (``reorder_decoding_state``). Each step scores every beam's candidates, keeps
the K best of the K * V per prompt and reorders the buffer and state to their parents.
Logits processors apply to the log probabilities (as transformers' beam search does).
"""
import numpy as np

from zoo import ops
from zoo.generation.logits_processors import NEGATIVE_LOGIT
from zoo.generation.steps import context, scalar
from zoo.ops.replay import replayable


class BeamSearch:
    streams = False
    spare_columns = 0
    needs_seed = False

    def __init__(self, num_beams):
        self.num_beams = int(num_beams)

    def cache_key(self):
        return ("beam", self.num_beams)

    streaming_error = ("a streamer needs a per-token sampler; beam search only knows its "
                       "sequences at the end.")

    def loop_fn(self, decoding):
        beams = self.num_beams
        model = decoding.model

        def log_probs(process, logits, buffer, index, prompt_length):
            scores = ops.log_softmax(logits, axis=-1)
            if process is not None:
                scores = process(scores, context(buffer, index, prompt_length))
            return scores

        def generate(buffer, mask, seed, context_inputs, prompt_length):
            batch, total = buffer.shape
            rows = batch * beams
            logits, state = decoding.start(buffer, mask, context_inputs, prompt_length)
            vocabulary = logits.shape[-1]
            if beams > vocabulary:
                raise ValueError(f"generate: num_beams={beams} is more than the "
                                 f"{vocabulary} tokens of the vocabulary.")
            process = decoding.processing(vocabulary)
            first = scalar(prompt_length)
            top_scores, top = ops.top_k(log_probs(process, logits, buffer, first,
                                                  prompt_length), beams)       # (B, K)
            parents = ops.convert_to_tensor(np.repeat(np.arange(batch, dtype=np.int32), beams))
            state = model.reorder_decoding_state(state, parents, batch)
            buffer = ops.take(buffer, parents, axis=0)                          # (B*K, L)
            mask = ops.take(mask, parents, axis=0)
            tokens = ops.reshape(ops.cast(top, "int32"), (rows,))
            buffer = ops.slice_update(buffer, [0, first], ops.expand_dims(tokens, 1))
            done = decoding.stopped(ops.zeros((rows,), "bool"), tokens)
            scores = ops.reshape(top_scores, (rows,))

            pad_only = np.full((vocabulary,), NEGATIVE_LOGIT, np.float32)
            pad_only[decoding.pad_id] = 0.0
            pad_only = ops.convert_to_tensor(pad_only)
            row_base = ops.convert_to_tensor(
                (np.arange(batch, dtype=np.int32) * beams)[:, None])            # (B, 1)

            def cond(buffer, state, scores, done, index):
                return ops.logical_and(ops.less(index, total), ops.logical_not(ops.all(done)))

            def body(buffer, state, scores, done, index):
                logits, state = decoding.next_logits(buffer, mask, state, index)
                candidates = log_probs(process, logits, buffer, index, prompt_length)
                candidates = ops.where(ops.expand_dims(done, 1), ops.expand_dims(pad_only, 0),
                                       candidates)  # a finished beam only grows padding, free
                totals = ops.reshape(ops.add(ops.expand_dims(scores, 1), candidates),
                                     (batch, beams * vocabulary))
                top_scores, top = ops.top_k(totals, beams)                      # (B, K) sorted
                top = ops.cast(top, "int32")
                parents = ops.reshape(ops.add(row_base, ops.floor_divide(top, vocabulary)),
                                      (rows,))
                tokens = ops.reshape(ops.mod(top, vocabulary), (rows,))
                buffer = ops.take(buffer, parents, axis=0)
                state = model.reorder_decoding_state(state, parents, rows)
                done = ops.take(done, parents, axis=0)
                buffer = ops.slice_update(buffer, [0, index], ops.expand_dims(tokens, 1))
                done = decoding.stopped(done, tokens)
                return buffer, state, ops.reshape(top_scores, (rows,)), done, ops.add(index, 1)

            start = (buffer, state, scores, done, scalar(prompt_length + 1))
            buffer = ops.while_loop(cond, replayable(body), start)[0]
            best = ops.convert_to_tensor(np.arange(batch, dtype=np.int32) * beams)  # top beam
            return ops.take(buffer, best, axis=0)

        return generate
