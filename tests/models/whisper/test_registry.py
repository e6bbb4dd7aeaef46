"""The Whisper registry entries (zoo/presets/whisper.toml): names, repositories and honest
parameter counts."""
import math

import pytest

import zoo.presets
from zoo.backend.common.variables import DeferredInitScope
from zoo.models.whisper.backbone import WhisperBackbone

# published dimensions: hidden size, encoder / decoder layers, heads
DIMS = {"tiny": (384, 4, 4, 6), "base": (512, 6, 6, 8), "small": (768, 12, 12, 12),
        "medium": (1024, 24, 24, 16), "large_v2": (1280, 32, 32, 20),
        "large_v3": (1280, 32, 32, 20), "large_v3_turbo": (1280, 32, 4, 20)}


def config(name):
    size, language = name[len("whisper_"):].rsplit("_", 1)
    hidden, encoder_layers, decoder_layers, heads = DIMS[size]
    v3 = size.startswith("large_v3")
    vocabulary = 51864 if language == "en" else 51866 if v3 else 51865
    return dict(vocabulary_size=vocabulary, num_layers=encoder_layers, num_heads=heads,
                hidden_dim=hidden, intermediate_dim=4 * hidden, num_mels=128 if v3 else 80,
                num_decoder_layers=decoder_layers)


def formula(c):
    """The count whisper.toml's comment derives (see there)."""
    h, f, m, v = c["hidden_dim"], c["intermediate_dim"], c["num_mels"], c["vocabulary_size"]
    encoder = (3 * m * h + h + 3 * h * h + h + 1500 * h
               + c["num_layers"] * (4 * h * h + 2 * h * f + f + 8 * h) + 2 * h)
    decoder = (v * h + 448 * h
               + c["num_decoder_layers"] * (8 * h * h + 2 * h * f + f + 13 * h) + 2 * h)
    return encoder + decoder


def whisper_entries():
    return [e for e in zoo.presets.list() if e.family == "whisper"]


def test_every_published_size_is_registered():
    entries = {e.name: e for e in whisper_entries()}
    assert len(entries) == 11
    for size in ("tiny", "base", "small", "medium"):
        assert entries[f"whisper_{size}_en"].hf_repo == f"openai/whisper-{size}.en"
        assert entries[f"whisper_{size}_multi"].hf_repo == f"openai/whisper-{size}"
    for size in ("large-v2", "large-v3", "large-v3-turbo"):
        name = f"whisper_{size.replace('-', '_')}_multi"
        assert entries[name].hf_repo == f"openai/whisper-{size}"
    for entry in entries.values():
        assert entry.license == "mit"
        assert entry.pipeline_tag == "automatic-speech-recognition"
        assert entry.source_format == "transformers"
        assert entry.parameter_count == formula(config(entry.name)), entry.name
    assert zoo.presets.get("whisper_tiny.en").name == "whisper_tiny_en"
    assert zoo.presets.get("whisper-large-v3-turbo").name == "whisper_large_v3_turbo_multi"


@pytest.mark.parametrize("name", ["whisper_tiny_en", "whisper_tiny_multi", "whisper_base_en"])
def test_parameter_count_is_the_built_backbones(name):
    with DeferredInitScope():
        backbone = WhisperBackbone(**config(name))
        count = sum(math.prod(v.shape) for v in backbone.variables)
    assert count == zoo.presets.get(name).parameter_count
