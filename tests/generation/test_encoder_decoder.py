"""The decoding protocol fits an encoder-decoder: a toy sequence-to-sequence model built
from zoo's shared blocks (TransformerEncoder, TransformerDecoder with cross-attention)
generates through zoo.generation, on every backend and strategy, the tokens a plain loop of
full forward passes makes. The encoder runs once per batch (not once per beam), and its
cross-attention keys/values once per generation."""
import numpy as np
import pytest

import zoo
from zoo import layers, ops
from zoo.generation import generate_tokens, samplers
from zoo.generation.prompt_lookup import PromptLookup
from zoo.generation.protocol import DecodingProtocol
from zoo.layers.transformer import PositionEmbedding, TransformerDecoder, TransformerEncoder

VOCAB, HIDDEN, HEADS, LENGTH, NEW = 24, 16, 2, 32, 8


class ToySeq2Seq(zoo.Model, DecodingProtocol):
    """features (B, F, HIDDEN) + features_mask (B, F) -> encoder; token_ids (B, T) ->
    decoder with cross-attention -> logits (B, T, VOCAB)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder_layers = [TransformerEncoder(32, HEADS, normalize_first=True)
                               for _ in range(2)]
        self.token_embedding = layers.Embedding(VOCAB, HIDDEN)
        self.positions = PositionEmbedding(LENGTH)
        self.decoder_layers = [TransformerDecoder(32, HEADS, use_cross_attention=True,
                                                  bias_initializer="random_normal")
                               for _ in range(2)]
        self.head = layers.Dense(VOCAB)
        self.encoder_batches = []  # the batch size of every encoder run

    def encode(self, features, mask):
        self.encoder_batches.append(features.shape[0])
        for layer in self.encoder_layers:
            features = layer(features, padding_mask=mask)
        return features

    def embed(self, token_ids, start=0):
        x = self.token_embedding(token_ids)
        return ops.add(x, self.positions(x, start_index=start))

    def call(self, inputs):
        encoded = self.encode(inputs["features"], inputs["features_mask"])
        x = self.embed(inputs["token_ids"])
        for layer in self.decoder_layers:
            x = layer(x, encoder_sequence=encoded, encoder_padding_mask=inputs["features_mask"])
        return self.head(x)

    # -- the decoding protocol ------------------------------------------------------------
    def decoding_state(self, batch_size, max_length, context):
        encoded = self.encode(context["features"], context["features_mask"])
        shape = (batch_size * HEADS, max_length, HIDDEN // HEADS)
        return {"cross": tuple(layer.cross_attention_cache(encoded)
                               for layer in self.decoder_layers),
                "self": tuple((ops.zeros(shape), ops.zeros(shape))
                              for _ in self.decoder_layers),
                "features_mask": context["features_mask"]}

    def decode(self, token_ids, state, index, padding_mask):
        x = self.embed(token_ids, start=index)
        first = self.decoder_layers[0]
        mask = first.self_attention_mask(x, padding_mask, cache=state["self"][0],
                                         cache_update_index=index)
        caches = []
        for layer, cache, cross in zip(self.decoder_layers, state["self"], state["cross"]):
            x, cache = layer(x, attention_mask=mask, use_causal_mask=False, cache=cache,
                             cache_update_index=index, cross_attention_cache=cross,
                             encoder_padding_mask=state["features_mask"])
            caches.append(cache)
        return x, {**state, "self": tuple(caches)}

    def logits_from_hidden(self, hidden):
        return self.head(hidden)


@pytest.fixture(scope="module")
def toy():
    zoo.config.set_random_seed(4)
    model = ToySeq2Seq()
    rng = np.random.default_rng(0)
    features = rng.normal(size=(3, 6, HIDDEN)).astype(np.float32)
    features_mask = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [1] * 4 + [0, 0]], np.int32)
    prompt = np.array([[2, 5], [2, 7], [2, 9]], np.int32)
    model({"features": features, "features_mask": features_mask, "token_ids": prompt})
    for variable in model.weights:  # order-1 weights: clear argmaxes, varied tokens
        if variable.path.endswith("kernel") or variable.path.endswith("embeddings"):
            variable.assign(np.random.default_rng(len(variable.path)).normal(
                0, 0.5, variable.shape).astype("float32"))
    return model, {"features": features, "features_mask": features_mask}, prompt


_FULL_FORWARD = {}


def full_forward_tokens(model, context, prompt):
    """Greedy by full forward passes, one row at a time (no cache, no batch); made once
    per model (eager forwards are slow on jax)."""
    if id(model) not in _FULL_FORWARD:
        _FULL_FORWARD[id(model)] = _full_forward_tokens(model, context, prompt)
    return _FULL_FORWARD[id(model)]


def _full_forward_tokens(model, context, prompt):
    out = []
    for row in range(prompt.shape[0]):
        tokens = list(prompt[row])
        for _ in range(NEW):
            logits = ops.convert_to_numpy(model({
                "features": context["features"][row:row + 1],
                "features_mask": context["features_mask"][row:row + 1],
                "token_ids": np.asarray(tokens, np.int32)[None]}))
            tokens.append(int(np.argmax(np.asarray(logits)[0, -1])))
        out.append(tokens[-NEW:])
    return np.asarray(out)


def run(model, context, prompt, strategy, **kwargs):
    mask = np.ones_like(prompt, dtype=bool)
    return generate_tokens(model, prompt, mask, prompt.shape[1] + NEW, strategy,
                           context={k: ops.convert_to_tensor(v) for k, v in context.items()},
                           **kwargs)


@pytest.mark.parametrize("mode", ["loop", "stream", "lookup", "beam1"])
def test_encoder_decoder_generates_the_full_forward_tokens(toy, mode):
    model, context, prompt = toy
    greedy = samplers.GreedySampler()
    strategy = {"lookup": PromptLookup(greedy, 3),
                "beam1": samplers.BeamSampler(num_beams=1).strategy()}.get(
        mode, greedy.strategy())
    streamed = []
    model.encoder_batches.clear()
    buffer = run(model, context, prompt, strategy,
                 streamer=streamed.append if mode == "stream" else None)
    np.testing.assert_array_equal(buffer[:, prompt.shape[1]:],
                                  full_forward_tokens(model, context, prompt))
    if mode == "stream":
        np.testing.assert_array_equal(np.stack(streamed, 1), buffer[:, prompt.shape[1]:])


def score(model, context, row, tokens):
    logits = np.asarray(ops.convert_to_numpy(model({
        "features": context["features"][row:row + 1],
        "features_mask": context["features_mask"][row:row + 1],
        "token_ids": np.asarray(tokens, np.int32)[None]})))[0].astype(np.float64)
    logits -= logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return sum(log_probs[t - 1, tokens[t]] for t in range(2, len(tokens)))


def test_beam_search_runs_the_encoder_once_per_prompt(toy):
    """Beams copy the decoding state (cross-attention keys and values, encoder mask) of
    their prompt: the encoder ran on the 3 prompts, and the best beam scores at least as
    well as greedy."""
    model, context, prompt = toy
    model.encoder_batches.clear()
    beam = run(model, context, prompt, samplers.BeamSampler(num_beams=4).strategy())
    assert model.encoder_batches and set(model.encoder_batches) == {3}
    greedy = run(model, context, prompt, samplers.GreedySampler().strategy())
    for row in range(3):
        assert score(model, context, row, beam[row]) >= score(model, context, row,
                                                             greedy[row]) - 1e-4
