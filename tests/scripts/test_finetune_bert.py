"""scripts/finetune_bert.py: data reading, label encoding, and the CLI end to end on a tiny
preset made here (one epoch, a few dozen sentences)."""
import csv
import json
import os
import sys

import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND
from zoo.models import BertBackbone, BertPreprocessor, BertTextClassifier, BertTokenizer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import finetune_bert

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "plot", "was", "is",
         "great", "good", "bad", "awful", "fine", "ok", "not", "."]
ROWS = [("the film was great .", "pos"), ("the plot is good", "pos"),
        ("the film was awful .", "neg"), ("the plot is bad", "neg"),
        ("the film was ok", "meh"), ("the plot is fine .", "meh")] * 5


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_jsonl(path, records):
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return str(path)


@pytest.fixture
def tiny_preset(tmp_path):
    zoo.config.set_random_seed(1)
    backbone = BertBackbone(vocabulary_size=len(VOCAB), num_layers=1, num_heads=2,
                            hidden_dim=8, intermediate_dim=16, max_sequence_length=16)
    preprocessor = BertPreprocessor(BertTokenizer(VOCAB, lowercase=True), sequence_length=16)
    return backbone.save_to_preset(str(tmp_path / "tiny"), preprocessor=preprocessor)


def test_read_csv_and_jsonl(tmp_path):
    texts, labels = finetune_bert.read_examples(write_csv(tmp_path / "a.csv", ROWS[:3]))
    assert texts == [r[0] for r in ROWS[:3]] and labels == ["pos", "pos", "neg"]
    path = write_jsonl(tmp_path / "a.jsonl", [{"q": "a", "c": "b", "y": 1},
                                              {"q": "c", "c": "d", "y": 0}])
    texts, labels = finetune_bert.read_examples(path, "q", "y", pair_column="c")
    assert texts == (["a", "c"], ["b", "d"]) and labels == [1, 0]


def test_label_encoding():
    ids, names = finetune_bert.encode_labels(["pos", "neg", "meh", "neg"])
    assert names == ["meh", "neg", "pos"] and ids.tolist() == [2, 1, 0, 1]
    ids, names = finetune_bert.encode_labels(["1", " 0", 2.0])
    assert names is None and ids.dtype == np.int32 and ids.tolist() == [1, 0, 2]
    assert finetune_bert.encode_labels(["neg"], ["neg", "pos"])[0].tolist() == [0]
    with pytest.raises(ValueError, match="test.csv.*'maybe'"):
        finetune_bert.encode_labels(["maybe"], ["neg", "pos"], where="test.csv")
    with pytest.raises(ValueError, match="1.5"):
        finetune_bert.encode_labels([1, 1.5])
    with pytest.raises(ValueError, match="single class"):
        finetune_bert.num_classes_of(np.zeros(4, np.int32), None)


def test_bad_files_name_the_file_line_and_column(tmp_path):
    path = write_csv(tmp_path / "t.csv", ROWS[:2], header=("sentence", "label"))
    with pytest.raises(ValueError, match=r"t\.csv, line 2: no column 'text'.*'sentence'"):
        finetune_bert.read_examples(path)
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "a", "label": 0}, {"text": 3,
                                                                           "label": 1}])
    with pytest.raises(ValueError, match=r"t\.jsonl, line 2: column 'text' must hold text"):
        finetune_bert.read_examples(path)
    (tmp_path / "bad.jsonl").write_text('{"text": "a"\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 1: not valid JSON"):
        finetune_bert.read_examples(str(tmp_path / "bad.jsonl"))
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ValueError, match=r"t\.txt: unknown data format"):
        finetune_bert.read_examples(str(tmp_path / "t.txt"))
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        finetune_bert.read_examples(str(tmp_path / "missing.csv"))
    with pytest.raises(SystemExit, match="missing.csv"):
        finetune_bert.main(["--data", str(tmp_path / "missing.csv"), "--out",
                            str(tmp_path / "out")])


@pytest.mark.skipif(BACKEND != "numpy", reason="the numpy backend's refusal")
def test_cli_refuses_numpy(tmp_path, tiny_preset):
    with pytest.raises(SystemExit, match="inference only"):
        finetune_bert.main(["--preset", tiny_preset, "--data",
                            write_csv(tmp_path / "t.csv", ROWS), "--out", str(tmp_path / "o")])


@pytest.mark.skipif(BACKEND == "numpy", reason="the numpy backend has no autodiff")
def test_cli_fine_tunes_and_saves_a_preset(tmp_path, tiny_preset, capsys):
    out = tmp_path / "fine_tuned"
    finetune_bert.main(["--preset", tiny_preset, "--data", write_csv(tmp_path / "t.csv", ROWS),
                        "--test-data", write_csv(tmp_path / "test.csv", ROWS[:6]),
                        "--epochs", "1", "--batch-size", "8", "--sequence-length", "8",
                        "--validation-split", "0.2",
                        "--learning-rate", "1e-3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "classes: 0 = meh, 1 = neg, 2 = pos" in printed
    assert "test accuracy" in printed and "saved the fine-tuned preset" in printed
    reloaded = BertTextClassifier.from_preset(str(out))
    assert reloaded.num_classes == 3 and reloaded.preprocessor.sequence_length == 8
    assert reloaded.predict([r[0] for r in ROWS[:6]], verbose=0).shape == (6, 3)
    with open(out / "metadata.json") as f:
        assert "finetune_bert.py" in json.load(f)["source"]


def test_build_classifier_checks_the_sequence_length(tiny_preset):
    classifier = finetune_bert.build_classifier(tiny_preset, 3, None, 1e-3)
    assert classifier.num_classes == 3 and classifier.preprocessor.sequence_length == 16
    with pytest.raises(ValueError, match="--sequence-length 99.*3 to 16"):
        finetune_bert.build_classifier(tiny_preset, 2, 99, 1e-3)
