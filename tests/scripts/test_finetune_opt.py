"""scripts/finetune_opt.py: data reading, errors, and the CLI end to end (LoRA and full) on a
tiny random OPT preset made here: the output preset loads as a plain model and the
perplexity on the data drops."""
import json
import os
import sys

import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND
from tests.models.opt.test_lora import byte_level_vocabulary
from zoo.models import OPTBackbone, OPTCausalLM, OPTCausalLMPreprocessor, OPTTokenizer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import finetune_opt

LINES = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
         "the mat and the log", "a dog on a mat", "the cat and the log"] * 2
needs_fit = pytest.mark.skipif(BACKEND == "numpy", reason="the numpy backend has no autodiff")


@pytest.fixture
def tiny_preset(tmp_path):
    zoo.config.set_random_seed(1)
    tokenizer = OPTTokenizer(byte_level_vocabulary(), [])
    backbone = OPTBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=1,
                           num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0,
                           max_sequence_length=32)
    # a wider embedding than OPT's 0.02 init: the tied head can then express a peaked
    # distribution through the final layer norm, and q/v adapters alone can fit the data
    table = backbone.token_embedding.embeddings
    table.assign(np.random.default_rng(0).normal(scale=0.5, size=table.shape))
    model = OPTCausalLM(backbone, OPTCausalLMPreprocessor(tokenizer, sequence_length=32))
    return model.save_to_preset(str(tmp_path / "tiny_opt"))


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return str(path)


def test_read_lines(tmp_path):
    path = write_lines(tmp_path / "t.txt", ["a b", "  ", "c"])
    assert finetune_opt.read_lines(path) == ["a b", "c"]
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        finetune_opt.read_lines(str(tmp_path / "missing.txt"))
    (tmp_path / "blank.txt").write_text("\n  \n")
    with pytest.raises(ValueError, match="blank.txt: no examples"):
        finetune_opt.read_lines(str(tmp_path / "blank.txt"))
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="bin.txt: not UTF-8"):
        finetune_opt.read_lines(str(tmp_path / "bin.txt"))
    with pytest.raises(SystemExit, match="missing.txt"):
        finetune_opt.main(["--preset", "x", "--data", str(tmp_path / "missing.txt"),
                           "--output", str(tmp_path / "o")])


def test_build_model_checks_arguments(tiny_preset):
    model = finetune_opt.build_model(tiny_preset, 2, 8, None)
    assert model.backbone.lora_rank == 2 and model.preprocessor.sequence_length == 8
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="--sequence-length 99.*2 to 32"):
        finetune_opt.build_model(tiny_preset, 2, 99, None)
    with pytest.raises(ValueError, match="--lora-rank"):
        finetune_opt.build_model(tiny_preset, -1, 8, None)
    full = finetune_opt.build_model(tiny_preset, 0, 8, None)
    assert full.backbone.lora_rank is None
    assert len(full.trainable_variables) == len(full.variables)


@pytest.mark.skipif(BACKEND != "numpy", reason="the numpy backend's refusal")
def test_cli_refuses_numpy(tmp_path, tiny_preset):
    with pytest.raises(SystemExit, match="inference only"):
        finetune_opt.main(["--preset", tiny_preset, "--output", str(tmp_path / "o")])


@needs_fit
@pytest.mark.parametrize("rank, learning_rate", [(4, "1e-1"), (0, "1e-2")],
                         ids=["lora", "full"])
def test_cli_fine_tunes_and_saves_a_plain_preset(tmp_path, tiny_preset, capsys, rank,
                                                 learning_rate):
    out = tmp_path / "fine_tuned"
    results = finetune_opt.main([
        "--preset", tiny_preset, "--data", write_lines(tmp_path / "train.txt", LINES),
        "--lora-rank", str(rank), "--epochs", "3", "--batch-size", "4",
        "--sequence-length", "24", "--learning-rate", learning_rate, "--output", str(out)])
    printed = capsys.readouterr().out
    assert "perplexity before" in printed and "perplexity after" in printed
    assert "epoch 3: loss" in printed
    assert results["perplexity_after"] < 0.5 * results["perplexity_before"], results
    with open(out / "config.json") as f:
        assert "lora" not in f.read()
    with open(out / "metadata.json") as f:
        assert "finetune_opt.py" in json.load(f)["source"]
    reloaded = OPTCausalLM.from_preset(str(out))
    assert reloaded.preprocessor.sequence_length == 24
    reloaded_ppl = finetune_opt.perplexity(reloaded, LINES, batch_size=4)
    assert reloaded_ppl == pytest.approx(results["perplexity_after"], rel=1e-4)
