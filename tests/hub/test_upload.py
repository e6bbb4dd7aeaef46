"""upload_preset through the real huggingface_hub client to the loopback Hub, and back:
save_to_preset -> upload_preset -> from_preset gives identical outputs."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import zoo
import zoo.presets
from tests.hub import preset_models as pm
from tests.hub.conftest import WRITE_TOKEN, snapshot_files
from zoo.hub import download, model_cards, upload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def hand_made_preset(directory):
    files = {"config.json": b'{"class_name": "X", "config": {}}',
             "model.weights.h5": b"\x89HDF\r\n\x1a\n" + os.urandom(4096),
             "assets/tokenizer/vocab.txt": b"a\nb\n"}
    for name, data in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    metadata = {"format": "zoo.preset", "format_version": 1, "class_name": "X",
                "parameter_count": 1234, "dtype": "float32", "source": "hand made",
                "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}}
    (directory / "metadata.json").write_text(json.dumps(metadata))
    return str(directory)


def test_upload_then_download_round_trips_every_byte(fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    info = upload.upload_preset("hf://me/preset", preset, commit_message="first")
    assert info.repo_id == "me/preset" and info.revision == "main"
    assert fake_hub.repos["me/preset"].branches["main"] == info.commit
    assert info.commit_url.endswith(f"/me/preset/commit/{info.commit}")
    assert info.handle == f"hf://me/preset@{info.commit}"
    assert sorted(info.files) == sorted(["README.md", "metadata.json", *json.load(
        open(os.path.join(preset, "metadata.json")))["files"]])
    resolved = download.resolve(info.handle)
    assert snapshot_files(resolved.path) == snapshot_files(preset)
    for name in snapshot_files(preset):
        with open(os.path.join(preset, name), "rb") as a, \
                open(os.path.join(resolved.path, name), "rb") as b:
            assert a.read() == b.read(), name
    assert info.metadata_sha256 == download.sha256_file(os.path.join(resolved.path, "metadata.json"))


def test_weights_go_through_lfs_and_the_token_stays_on_the_hub(fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    upload.upload_preset("hf://me/preset", preset)
    weights = open(os.path.join(preset, "model.weights.h5"), "rb").read()
    assert hashlib.sha256(weights).hexdigest() in fake_hub.lfs
    calls = [(role, method, path.split("/")[-1]) for role, method, path, _ in fake_hub.requests]
    assert ("hub", "POST", "batch") in calls and ("cdn", "PUT", hashlib.sha256(weights).hexdigest()) in calls
    assert all(not authorized for role, *_, authorized in fake_hub.requests if role == "cdn")
    stored = fake_hub.repos["me/preset"].commits[fake_hub.repos["me/preset"].branches["main"]]
    assert stored["model.weights.h5"].lfs_sha256 and stored["config.json"].content


def test_generated_card_is_valid_front_matter(fake_hub, write_token, tmp_path):
    import yaml

    upload.upload_preset("hf://me/preset", hand_made_preset(tmp_path / "preset"),
                         entry=zoo.presets.get("bert_tiny"))
    card = fake_hub.file_bytes("me/preset", "README.md").decode()
    front = yaml.safe_load(card.split("---\n")[1])
    assert front == {"library_name": "zoo", "license": "apache-2.0", "pipeline_tag": "fill-mask",
                     "tags": ["zoo", "bert", "text", "english"]}
    assert "1,234" in card and 'zoo.Model.from_preset("hf://me/preset")' in card


def test_an_existing_readme_is_kept(fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    with open(os.path.join(preset, "README.md"), "w") as f:
        f.write("---\nlicense: mit\n---\n# mine\n")
    upload.upload_preset("hf://me/preset", preset)
    assert fake_hub.file_bytes("me/preset", "README.md").startswith(b"---\nlicense: mit")


def test_a_corrupt_preset_is_refused_before_any_request(fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    with open(os.path.join(preset, "model.weights.h5"), "ab") as f:
        f.write(b"tampered")
    with pytest.raises(ValueError, match=r"model\.weights\.h5.*corrupt"):
        upload.upload_preset("hf://me/preset", preset)
    os.remove(os.path.join(preset, "model.weights.h5"))
    with pytest.raises(ValueError, match=r"model\.weights\.h5.*missing"):
        upload.upload_preset("hf://me/preset", preset)
    assert fake_hub.requests == [] and "me/preset" not in fake_hub.repos


def test_unlisted_files_and_non_presets_are_refused(fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    with open(os.path.join(preset, "notes.txt"), "w") as f:
        f.write("x")
    with pytest.raises(ValueError, match=r"does not list: \['notes\.txt'\]"):
        upload.upload_preset("hf://me/preset", preset)
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="no metadata.json"):
        upload.upload_preset("hf://me/preset", str(tmp_path / "plain"))
    for target in ("me/preset", "hf://me/../preset", "hf://a/b/c"):
        with pytest.raises(ValueError, match="Upload target|Preset handle"):
            upload.upload_preset(target, preset)


def test_upload_without_a_write_token_says_so(fake_hub, tmp_path, monkeypatch):
    preset = hand_made_preset(tmp_path / "preset")
    with pytest.raises(upload.PresetUploadError, match="HF_TOKEN"):
        upload.upload_preset("hf://me/preset", preset)


def test_upload_to_a_branch_and_private_repos(fake_hub, write_token, tmp_path, monkeypatch):
    preset = hand_made_preset(tmp_path / "preset")
    info = upload.upload_preset("hf://me/secret@dev", preset, private=True)
    repo = fake_hub.repos["me/secret"]
    assert repo.private and repo.branches["dev"] == info.commit != repo.branches["main"]
    assert download.resolve("hf://me/secret@dev").commit == info.commit
    monkeypatch.delenv("HF_TOKEN")  # main was never fetched: the Hub must answer, and won't
    with pytest.raises(download.PresetDownloadError, match="not found.*HF_TOKEN"):
        download.resolve("hf://me/secret")


def test_uploading_the_same_preset_twice_changes_nothing(fake_hub, write_token, tmp_path):
    preset = hand_made_preset(tmp_path / "preset")
    first = upload.upload_preset("hf://me/preset", preset)
    second = upload.upload_preset("hf://me/preset", preset)
    assert second.commit == first.commit
    assert len(fake_hub.repos["me/preset"].commits) == 2  # the initial commit + one upload


def test_upload_script_writes_the_commit_back_to_the_registry(fake_hub, write_token, tmp_path,
                                                              monkeypatch):
    registry = tmp_path / "registry"
    registry.mkdir()
    shutil.copy(os.path.join(zoo.presets.DIRECTORY, "bert.toml"), registry / "bert.toml")
    monkeypatch.setattr(zoo.presets, "DIRECTORY", str(registry))
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import upload_preset as script
    finally:
        sys.path.pop(0)
    preset = hand_made_preset(tmp_path / "preset")
    cards = tmp_path / "cards"
    assert script.main([preset, "hf://zoo-org/bert_tiny", "--write-registry", "bert_tiny",
                        "--cards-dir", str(cards)]) == 0
    entry = zoo.presets.get("bert_tiny_en_uncased")
    assert entry.hf_repo == "zoo-org/bert_tiny" and entry.source_format == "zoo"
    assert entry.revision == fake_hub.repos["zoo-org/bert_tiny"].branches["main"]
    assert entry.sha256 == download.sha256_file(os.path.join(preset, "metadata.json"))
    assert f"`{entry.revision}`" in (cards / "bert_tiny_en_uncased.md").read_text()
    # the registry entry now resolves to exactly that upload, checksum verified
    assert download.resolve("bert_tiny").commit == entry.revision
    zoo.presets.reload()


def assert_same(a, b):
    a, b = pm.to_numpy(a), pm.to_numpy(b)
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_save_upload_from_preset_round_trip(fake_hub, write_token, tmp_path):
    model = pm.make_backbone(seed=5)
    path = str(tmp_path / "tiny")
    model.save_to_preset(path, source="test_upload")
    info = upload.upload_preset("hf://me/tiny", path)
    loaded = zoo.Model.from_preset("hf://me/tiny")
    assert type(loaded) is pm.TinyBackbone
    assert_same(loaded(pm.TOKENS), model(pm.TOKENS))
    # the model card's usage snippet runs as written
    namespace = {}
    exec(model_cards.usage_snippet("hf://me/tiny"), namespace)
    assert_same(namespace["model"](pm.TOKENS), model(pm.TOKENS))
    # another backend, in a fresh process that only has the environment variables
    np.save(tmp_path / "expected.npy", pm.to_numpy(model(pm.TOKENS))["sequence_output"])
    other = "numpy" if zoo.config.backend() != "numpy" else "torch"
    code = ("import sys, numpy as np, zoo; from tests.hub import preset_models as pm; "
            f"m = zoo.Model.from_preset('hf://me/tiny@{info.commit}'); "
            "out = pm.to_numpy(m(pm.TOKENS))['sequence_output']; "
            "np.testing.assert_allclose(out, np.load(sys.argv[1]), rtol=1e-6, atol=1e-6); "
            "print('ok', zoo.config.backend())")
    env = {**os.environ, "ZOO_BACKEND": other, "HF_TOKEN": WRITE_TOKEN,
           "HF_HUB_CACHE": str(tmp_path / "other_cache")}
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "expected.npy")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["ok", other]


def test_the_loopback_hub_refuses_oversized_bodies(fake_hub, write_token, tmp_path, monkeypatch):
    from tests.hub import hf_server

    monkeypatch.setattr(hf_server, "MAX_BODY", 3600)  # the API calls fit, the 4 kB weights not
    with pytest.raises(upload.PresetUploadError, match=r"model\.weights\.h5.*413"):
        upload.upload_preset("hf://me/preset", hand_made_preset(tmp_path / "preset"))
    assert len(fake_hub.repos["me/preset"].commits) == 1  # nothing committed
