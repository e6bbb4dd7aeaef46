"""The TOML preset registry: entries, aliases, suggestions, validation, write-back."""
import shutil

import pytest

import zoo.presets
from zoo.presets import registry as reg


def write(directory, name, text):
    path = directory / name
    path.write_text(text)
    return str(path)


ENTRY = """
[{name}]
aliases = [{aliases}]
class = "BertBackbone"
hf_repo = "org/{name}"
source_format = "transformers"
description = "d"
parameter_count = 10
license = "apache-2.0"
pipeline_tag = "fill-mask"
"""


def entry_text(name, aliases=""):
    return ENTRY.format(name=name, aliases=aliases)


def test_list_has_the_bert_and_opt_presets():
    entries = zoo.presets.list()
    names = [e.name for e in entries]
    assert names[:2] == ["bert_tiny_en_uncased", "bert_mini_en_uncased"]
    assert {"bert_base_en_uncased", "bert_base_multi", "opt_125m_en", "opt_6.7b_en"} <= set(names)
    bert = zoo.presets.get("bert_base_en_uncased")
    assert (bert.class_name, bert.hf_repo, bert.family) == (
        "BertBackbone", "google-bert/bert-base-uncased", "bert")
    assert bert.source_format == "transformers" and bert.license == "apache-2.0"
    opt = zoo.presets.get("opt_125m")
    assert opt.name == "opt_125m_en" and opt.class_name == "OPTBackbone" and opt.license == "other"


def test_no_official_entry_claims_a_revision_or_checksum():
    # none is known for real here: unknown means "main", never an invented value
    for entry in zoo.presets.list():
        assert entry.revision is None and entry.sha256 is None, entry.name
        inside = f"/{entry.hf_file}" if entry.hf_file else ""
        assert entry.handle == f"hf://{entry.hf_repo}{inside}"


def bert_params(vocab, layers, hidden):
    inner = 4 * hidden
    embeddings = vocab * hidden + 512 * hidden + 2 * hidden + 2 * hidden
    layer = 4 * (hidden * hidden + hidden) + 2 * hidden + 2 * hidden * inner + inner + hidden + 2 * hidden
    return embeddings + layers * layer + hidden * hidden + hidden


@pytest.mark.parametrize("name,vocab,layers,hidden", [
    ("bert_tiny_en_uncased", 30522, 2, 128), ("bert_small_en_uncased", 30522, 4, 512),
    ("bert_base_en_uncased", 30522, 12, 768), ("bert_base_en", 28996, 12, 768),
    ("bert_large_en", 28996, 24, 1024), ("bert_base_multi", 119547, 12, 768)])
def test_bert_parameter_counts_follow_from_the_config(name, vocab, layers, hidden):
    assert zoo.presets.get(name).parameter_count == bert_params(vocab, layers, hidden)


def test_aliases_resolve():
    assert zoo.presets.resolve_alias("bert_base") == "bert_base_en_uncased"
    assert zoo.presets.resolve_alias("bert_base_en_uncased") == "bert_base_en_uncased"
    assert zoo.presets.get("opt_1.3b").name == "opt_1.3b_en"


def test_unknown_name_suggests_the_closest():
    with pytest.raises(zoo.presets.UnknownPresetError) as e:
        zoo.presets.get("bert_bse_en_uncased")
    assert "bert_base_en_uncased" in str(e.value) and "zoo presets" in str(e.value)
    with pytest.raises(LookupError, match="Unknown preset 'zzz'"):
        zoo.presets.get("zzz")


def test_table_lists_every_preset_unpinned():
    table = zoo.presets.table()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["name", "aliases", "class"]
    assert len(lines) == 2 + len(zoo.presets.list())
    assert "109.5M" in table and "main (not pinned)" in table


def test_load_rejects_unknown_and_missing_keys(tmp_path):
    bad = write(tmp_path, "x.toml", entry_text("a") + 'colour = "red"\n')
    with pytest.raises(reg.RegistryError, match=r"x\.toml: \[a\]: unknown key\(s\) \['colour'\]"):
        reg.Registry.load(str(tmp_path))
    write(tmp_path, "x.toml", entry_text("a").replace('license = "apache-2.0"\n', ""))
    with pytest.raises(reg.RegistryError, match=r"x\.toml: \[a\]: missing key\(s\) \['license'\]"):
        reg.Registry.load(str(tmp_path))


def test_load_rejects_duplicates_across_files(tmp_path):
    write(tmp_path, "a.toml", entry_text("one", '"uno"'))
    write(tmp_path, "b.toml", entry_text("two", '"uno"'))
    with pytest.raises(reg.RegistryError) as e:
        reg.Registry.load(str(tmp_path))
    assert "b.toml" in str(e.value) and "a.toml" in str(e.value) and "'uno'" in str(e.value)


@pytest.mark.parametrize("extra,message", [
    ('revision = "main"\n', "40-hex commit"),
    ('sha256 = "' + "a" * 64 + '"\n', "only meaningful"),
    ('tags = "bert"\n', "list of strings"),
])
def test_load_validates_values(tmp_path, extra, message):
    write(tmp_path, "x.toml", entry_text("a") + extra)
    with pytest.raises(reg.RegistryError, match=message):
        reg.Registry.load(str(tmp_path))


def test_load_rejects_bad_repo_and_counts(tmp_path):
    write(tmp_path, "x.toml", entry_text("a").replace('"org/a"', '"org/../a"'))
    with pytest.raises(reg.RegistryError, match="hf_repo"):
        reg.Registry.load(str(tmp_path))
    write(tmp_path, "x.toml", entry_text("a").replace("= 10", "= -3"))
    with pytest.raises(reg.RegistryError, match="parameter_count"):
        reg.Registry.load(str(tmp_path))
    write(tmp_path, "x.toml", "[a\n")
    with pytest.raises(reg.RegistryError, match="x.toml: not valid TOML"):
        reg.Registry.load(str(tmp_path))


def test_update_entry_writes_back_and_keeps_comments(tmp_path):
    path = write(tmp_path, "x.toml", "# family comment\n" + entry_text("a") + entry_text("b"))
    commit, digest = "c" * 40, "d" * 64
    entry = reg.update_entry(path, "a", hf_repo="me/a", revision=commit, sha256=digest,
                             source_format="zoo")
    assert (entry.hf_repo, entry.revision, entry.sha256, entry.file) == ("me/a", commit, digest, path)
    text = open(path).read()
    assert text.startswith("# family comment\n")
    again = reg.Registry.load(str(tmp_path))
    assert again.get("a").revision == commit and again.get("b").revision is None
    reg.update_entry(path, "a", revision="e" * 40)
    assert reg.Registry.load(str(tmp_path)).get("a").revision == "e" * 40
    assert open(path).read().count("revision =") == 1


def test_update_entry_refuses_invalid_values(tmp_path):
    path = write(tmp_path, "x.toml", entry_text("a"))
    before = open(path).read()
    with pytest.raises(reg.RegistryError, match="40-hex"):
        reg.update_entry(path, "a", revision="main")
    with pytest.raises(reg.RegistryError, match=r"no table \[zz\]"):
        reg.update_entry(path, "zz", revision="c" * 40)
    assert open(path).read() == before and sorted(p.name for p in tmp_path.iterdir()) == ["x.toml"]


def test_the_registry_directory_can_be_swapped(tmp_path, monkeypatch):
    shutil.copy(zoo.presets.DIRECTORY + "/bert.toml", tmp_path / "bert.toml")
    monkeypatch.setattr(zoo.presets, "DIRECTORY", str(tmp_path))
    assert all(e.family == "bert" for e in zoo.presets.list())


def test_presets_list_after_a_plain_import_zoo():
    """The README's ``import zoo; zoo.presets.list()``, in a fresh process (here other
    imports could have loaded zoo.presets already)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = "import zoo; print(len(zoo.presets.list()), zoo.presets.list()[0].name)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, ZOO_BACKEND="numpy", PYTHONPATH=root),
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    count, first = result.stdout.split()
    assert int(count) == len(zoo.presets.list()) and first == "bert_tiny_en_uncased"


def test_a_single_file_checkpoint_entry(tmp_path):
    write(tmp_path, "x.toml", entry_text("a").replace('"transformers"', '"ultralytics"')
          + 'hf_file = "weights/a.pt"\n')
    entry = reg.Registry.load(str(tmp_path)).get("a")
    assert entry.hf_file == "weights/a.pt"
    assert entry.handle == "hf://org/a/weights/a.pt"
    assert "org/a/weights/a.pt" in reg.format_table([entry])
    write(tmp_path, "x.toml", entry_text("a") + 'hf_file = "a.bin"\n')
    with pytest.raises(reg.RegistryError, match=r"\[a\]: 'hf_file' .*\.pt"):
        reg.Registry.load(str(tmp_path))
