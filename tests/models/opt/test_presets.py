"""OPT presets: save_to_preset -> from_preset on every backend (tests.models.helpers)."""
from tests.models.helpers import run_preset_test
from zoo.models import OPTBackbone, OPTCausalLM, OPTCausalLMPreprocessor, OPTTokenizer

# a byte-level BPE small enough to write here ("Ġ" is the byte-level space)
VOCABULARY = {token: index for index, token in enumerate(
    ["<s>", "<pad>", "</s>", "<unk>", *"abcdefghijklmnopqrstuvwxyzĠ", "th", "Ġt", "at", "Ġc"])}
MERGES = ["t h", "Ġ t", "a t", "Ġ c"]
TEXTS = ["the cat sat", "a hat", "that"]


def test_causal_lm_preset_on_every_backend(tmp_path):
    preprocessor = OPTCausalLMPreprocessor(OPTTokenizer(VOCABULARY, MERGES), sequence_length=8)
    backbone = OPTBackbone(vocabulary_size=len(VOCABULARY), num_layers=2, num_heads=2,
                           hidden_dim=8, intermediate_dim=16, max_sequence_length=12)
    causal_lm = OPTCausalLM(backbone, preprocessor=preprocessor)
    arrays, _, _ = preprocessor(TEXTS)
    run_preset_test(causal_lm, arrays, tmp_path, raw_inputs=TEXTS)
