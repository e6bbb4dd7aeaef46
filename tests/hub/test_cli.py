"""The `zoo` command: main(argv) exit codes and output; one real `python -m zoo.cli` run."""
import json
import os
import subprocess
import sys

import pytest

import zoo
from tests.hub import preset_models as pm
from tests.hub.conftest import set_offline
from tests.hub.test_download import TRANSFORMERS_REPO
from tests.hub.test_upload import hand_made_preset
from zoo import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_table_and_json(capsys):
    code, out, _ = run(capsys, "presets")
    assert code == 0 and "bert_base_en_uncased" in out and "opt_6.7b_en" in out
    code, out, _ = run(capsys, "presets", "--json")
    entries = json.loads(out)
    assert code == 0 and {e["name"] for e in entries} >= {"bert_tiny_en_uncased", "opt_125m_en"}
    assert next(e for e in entries if e["name"] == "bert_base_en_uncased")["aliases"] == ["bert_base"]


def test_usage_errors_exit_2(capsys):
    assert run(capsys, )[0] == 2
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err
    assert run(capsys, "info")[0] == 2
    assert run(capsys, "run", "fill-mask", "text")[0] == 2  # --preset is required


@pytest.mark.parametrize("argv", [[], ["presets"], ["info"], ["download"], ["convert"],
                                  ["upload"], ["run"]])
def test_help_everywhere(capsys, argv):
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0 and "usage: zoo" in out


def test_info_offline_says_main_is_not_pinned(capsys, monkeypatch):
    set_offline(monkeypatch)
    code, out, _ = run(capsys, "info", "bert_base")
    assert code == 0
    assert "bert_base_en_uncased (aliases: bert_base)" in out
    assert "main (not pinned)" in out and "109,482,240" in out
    assert "hf://google-bert/bert-base-uncased" in out and "HF_HUB_OFFLINE=1" in out


def test_info_online_lists_files_and_cache_state(capsys, fake_hub):
    fake_hub.add_files("org/tfm", TRANSFORMERS_REPO)
    code, out, _ = run(capsys, "info", "hf://org/tfm")
    assert code == 0 and '"model_type": "bert"' in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")
             and line.split()[0].endswith((".json", ".txt", ".safetensors"))}
    assert lines["config.json"][0] == "cached" and lines["model.safetensors"][:2] == ["not", "cached"]
    assert run(capsys, "download", "hf://org/tfm")[0] == 0
    _, out, _ = run(capsys, "info", "hf://org/tfm")
    assert "not cached" not in out


def test_info_on_a_local_preset(capsys, tmp_path):
    pm.make_backbone(seed=2).save_to_preset(str(tmp_path / "p"))
    code, out, _ = run(capsys, "info", str(tmp_path / "p"))
    assert code == 0 and "zoo preset" in out and "zoo_tests>TinyBackbone" in out
    assert "model.weights.h5" in out and "local" in out and "not cached" not in out


def test_runtime_errors_exit_1_with_a_message(capsys):
    code, out, err = run(capsys, "info", "bert_bsae")
    assert code == 1 and out == "" and "Did you mean" in err and "Traceback" not in err
    code, _, err = run(capsys, "download", "hf://org/../x")
    assert code == 1 and "'..'" in err
    code, _, err = run(capsys, "download", "hf://org/x")
    assert code == 1 and "HF_HUB_OFFLINE" in err
    code, _, err = run(capsys, "--debug", "download", "hf://org/x")
    assert code == 1 and "Traceback" in err
    code, _, err = run(capsys, "info", "hf://org/x")  # nothing known: the hub is unreachable
    assert code == 1 and "cannot be reached" in err


def test_download_prints_the_directory(capsys, fake_hub):
    fake_hub.add_files("org/tfm", TRANSFORMERS_REPO)
    code, out, _ = run(capsys, "download", "hf://org/tfm")
    assert code == 0 and sorted(os.listdir(out.strip())) == [
        "config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]


def test_upload_and_convert(capsys, fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    code, out, _ = run(capsys, "upload", preset, "hf://me/preset", "--message", "via cli")
    commit = fake_hub.repos["me/preset"].branches["main"]
    assert code == 0 and f"commit  {commit}" in out
    assert fake_hub.repos["me/preset"].messages[commit] == "via cli"
    # convert: load any handle, write a zoo preset
    model = pm.make_backbone(seed=2)
    model.save_to_preset(str(tmp_path / "src"))
    code, _, err = run(capsys, "convert", str(tmp_path / "src"), str(tmp_path / "dst"))
    assert code == 0, err
    loaded = zoo.Model.from_preset(str(tmp_path / "dst"))
    out_a, out_b = pm.to_numpy(loaded(pm.TOKENS)), pm.to_numpy(model(pm.TOKENS))
    assert all((out_a[k] == out_b[k]).all() for k in out_a)


def test_run_without_pipelines_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.delattr(zoo, "pipeline", raising=False)
    code, _, err = run(capsys, "run", "fill-mask", "--preset", "bert_tiny", "the [MASK] sat")
    assert code == 1 and "no pipelines yet" in err


def test_run_calls_zoo_pipeline(capsys, monkeypatch):
    calls = []

    def pipeline(task, preset):
        calls.append((task, preset))
        return lambda text: [{"token_str": text.upper()}]

    monkeypatch.setattr(zoo, "pipeline", pipeline, raising=False)
    code, out, _ = run(capsys, "run", "fill-mask", "--preset", "bert_tiny", "a", "b")
    assert code == 0 and calls == [("fill-mask", "bert_tiny")]
    assert [json.loads(line)["output"][0]["token_str"] for line in out.splitlines()] == ["A", "B"]


def test_python_dash_m_help():
    env = {**os.environ, "ZOO_BACKEND": "numpy"}
    result = subprocess.run([sys.executable, "-m", "zoo.cli", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "presets" in result.stdout and "upload" in result.stdout
