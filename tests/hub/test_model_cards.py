"""Model cards: front matter the Hub accepts, facts from the registry, committed cards current."""
import ast
import os
import subprocess
import sys

import yaml

import zoo.presets
from zoo.hub import model_cards

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CARDS = os.path.join(ROOT, "model_cards")


def front_matter(card):
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_entry_card_front_matter_and_facts():
    entry = zoo.presets.get("bert_base")
    card = model_cards.render_entry_card(entry)
    assert front_matter(card) == {
        "library_name": "zoo", "license": "apache-2.0", "pipeline_tag": "fill-mask",
        "tags": ["zoo", "bert", "text", "english"],
        "base_model": "google-bert/bert-base-uncased"}
    assert "# bert_base_en_uncased" in card and entry.description in card
    assert "109,482,240 (109.5M)" in card and "main (not pinned)" in card
    assert "https://huggingface.co/google-bert/bert-base-uncased" in card


def test_usage_snippet_is_python_that_loads_the_preset():
    for entry in zoo.presets.list():
        card = model_cards.render_entry_card(entry)
        snippet = card.split("```python\n")[1].split("```")[0]
        tree = ast.parse(snippet)
        call = tree.body[-1].value
        assert ast.unparse(call.func) == "zoo.Model.from_preset"
        assert zoo.presets.resolve_alias(call.args[0].value) == entry.name


def test_yaml_scalars_are_quoted_when_needed():
    assert model_cards._yaml_scalar("apache-2.0") == "apache-2.0"
    for tricky in ("yes", "1.3b", "a: b", "#x", "null"):
        assert yaml.safe_load(f"k: {model_cards._yaml_scalar(tricky)}") == {"k": tricky}


def test_committed_cards_are_up_to_date():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_model_cards.py"),
                             "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "ZOO_BACKEND": "numpy"})
    assert result.returncode == 0, "run scripts/make_model_cards.py:\n" + result.stdout
    names = sorted(f[:-3] for f in os.listdir(CARDS) if f.endswith(".md"))
    assert names == sorted(zoo.presets.names())


def test_make_model_cards_is_idempotent_and_removes_orphans(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import make_model_cards as script
    finally:
        sys.path.pop(0)
    (tmp_path / "gone.md").write_text(f"old\n{script.MARKER}\n")
    (tmp_path / "handwritten.md").write_text("mine\n")
    assert script.main(["--out", str(tmp_path)]) == 0
    assert not (tmp_path / "gone.md").exists() and (tmp_path / "handwritten.md").exists()
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert script.main(["--out", str(tmp_path)]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    assert script.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "bert_tiny_en_uncased.md").write_text("stale")
    assert script.main(["--check", "--out", str(tmp_path)]) == 1
