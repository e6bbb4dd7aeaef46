"""download.resolve with the real huggingface_hub client: against the loopback Hub (online),
from a cache the client populated or one built by hand (offline), and with the Hub gone."""
import hashlib
import json
import os

import pytest

from tests.hub.conftest import set_endpoint, set_offline, snapshot_files
from zoo.hub import download

CONFIG = json.dumps({"model_type": "bert", "hidden_size": 8}).encode()
TRANSFORMERS_REPO = {
    "config.json": CONFIG,
    "model.safetensors": b"\0safetensors-bytes" * 10,
    "vocab.txt": b"[PAD]\n[UNK]\nhello\n",
    "tokenizer_config.json": b"{}",
    "pytorch_model.bin": b"pickle!",
    "tf_model.h5": b"\0h5",
    "flax_model.msgpack": b"\0msgpack",
    "onnx/model.onnx": b"\0onnx",
    "coreml/model.safetensors": b"\0not top level",
    "README.md": b"# card\n",
}


def zoo_preset_files():
    files = {"config.json": b'{"class_name": "X", "config": {}}',
             "model.weights.h5": os.urandom(64) + b"\0",
             "assets/tokenizer/vocab.txt": b"a\nb\n"}
    metadata = {"format": "zoo.preset", "format_version": 1, "class_name": "X",
                "parameter_count": 3, "files": {k: hashlib.sha256(v).hexdigest()
                                                for k, v in files.items()}}
    return {**files, "metadata.json": json.dumps(metadata).encode()}


def test_transformers_checkpoint_fetches_only_what_zoo_reads(fake_hub):
    commit = fake_hub.add_files("org/tfm", TRANSFORMERS_REPO)
    resolved = download.resolve("hf://org/tfm")
    assert resolved.source_format == "transformers" and resolved.commit == commit
    assert (resolved.repo_id, resolved.revision, resolved.entry) == ("org/tfm", None, None)
    assert snapshot_files(resolved.path) == ["config.json", "model.safetensors",
                                             "tokenizer_config.json", "vocab.txt"]
    assert resolved.path.endswith(os.path.join("models--org--tfm", "snapshots", commit))
    with open(os.path.join(resolved.path, "model.safetensors"), "rb") as f:
        assert f.read() == TRANSFORMERS_REPO["model.safetensors"]
    fetched = {path.rsplit("/", 1)[-1] for _, method, path, _ in fake_hub.requests
               if method == "GET" and ("/resolve/" in path or path.startswith("/lfs/"))}
    assert len(fetched) == 4  # three regular files from the hub, one LFS blob from the cdn


def test_zoo_preset_fetches_exactly_the_listed_files(fake_hub):
    files = zoo_preset_files()
    fake_hub.add_files("org/preset", {**files, "unlisted.bin": b"\0x", "README.md": b"card"})
    resolved = download.resolve("hf://org/preset")
    assert resolved.source_format == "zoo"
    assert snapshot_files(resolved.path) == sorted(files)
    assert sorted(resolved.files) == sorted(files)
    for name, data in files.items():
        with open(os.path.join(resolved.path, *name.split("/")), "rb") as f:
            assert f.read() == data


def test_revisions_pin_a_commit(fake_hub):
    first = fake_hub.add_files("org/tfm", {"config.json": b'{"model_type": "a"}'})
    fake_hub.add_files("org/tfm", {"config.json": b'{"model_type": "b"}'}, branch="dev")
    latest = fake_hub.add_files("org/tfm", {"config.json": b'{"model_type": "c"}'})
    for handle, commit, model_type in [("hf://org/tfm", latest, "c"),
                                       (f"hf://org/tfm@{first}", first, "a"),
                                       ("hf://org/tfm@main", latest, "c")]:
        resolved = download.resolve(handle)
        assert resolved.commit == commit
        with open(os.path.join(resolved.path, "config.json")) as f:
            assert json.load(f)["model_type"] == model_type
    resolved = download.resolve("hf://org/tfm@dev")
    assert resolved.revision == "dev"
    with open(os.path.join(resolved.path, "config.json")) as f:
        assert json.load(f)["model_type"] == "b"


def test_registry_names_resolve_through_their_repo(fake_hub):
    fake_hub.add_files("google-bert/bert-base-uncased", TRANSFORMERS_REPO)
    resolved = download.resolve("bert_base")
    assert resolved.entry.name == "bert_base_en_uncased"
    assert resolved.repo_id == "google-bert/bert-base-uncased" and resolved.revision is None
    assert resolved.handle == "bert_base"


def test_pickle_weights_need_an_explicit_opt_in(fake_hub):
    fake_hub.add_files("org/old", {"config.json": CONFIG, "pytorch_model.bin": b"\x80pickle",
                                   "vocab.txt": b"a\n"})
    with pytest.raises(download.PickleNotAllowedError, match=r"pytorch_model\.bin.*allow_pickle"):
        download.resolve("hf://org/old")
    resolved = download.resolve("hf://org/old", allow_pickle=True)
    assert snapshot_files(resolved.path) == ["config.json", "pytorch_model.bin", "vocab.txt"]


def test_missing_repo_revision_and_file_are_clear_errors(fake_hub):
    with pytest.raises(download.PresetDownloadError, match="repository org/nope not found"):
        download.resolve("hf://org/nope")
    fake_hub.add_files("org/tfm", {"config.json": CONFIG})
    with pytest.raises(download.PresetDownloadError, match="revision 'v9' not found in org/tfm"):
        download.resolve("hf://org/tfm@v9")
    files = zoo_preset_files()
    del files["model.weights.h5"]  # metadata.json still lists it
    fake_hub.add_files("org/broken", files)
    with pytest.raises(download.PresetDownloadError, match=r"lists \['model\.weights\.h5'\]"):
        download.resolve("hf://org/broken")
    fake_hub.add_files("org/empty", {"weights.safetensors": b"\0"})
    with pytest.raises(download.PresetDownloadError, match="has no config.json"):
        download.resolve("hf://org/empty")


def test_metadata_paths_cannot_escape_the_snapshot(fake_hub):
    files = zoo_preset_files()
    metadata = json.loads(files["metadata.json"])
    metadata["files"]["../../escape.txt"] = "0" * 64
    files["metadata.json"] = json.dumps(metadata).encode()
    fake_hub.add_files("org/evil", files)
    with pytest.raises(ValueError, match=r"'\.\./\.\./escape\.txt' has '\.\.'"):
        download.resolve("hf://org/evil")


@pytest.mark.parametrize("handle", [
    "hf://org/../etc", "hf://../repo", "hf:///etc/passwd", "hf://org/repo/extra",
    "hf://org\\repo", "hf://org//repo", "hf://", "hf://org/repo@", "hf://org/repo@../main",
    "hf://org/repo@/abs", "hf://org/re po", "ftp://org/repo", "org/not-a-dir",
])
def test_bad_handles_name_the_handle(handle):
    with pytest.raises(ValueError) as e:
        download.resolve(handle)
    assert handle in str(e.value)


def test_unknown_registry_name_suggests(fake_hub):
    with pytest.raises(LookupError, match="Did you mean 'bert_base'"):
        download.resolve("bert_bsae")


def test_local_directory_is_returned_as_is(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    resolved = download.resolve(str(tmp_path))
    assert resolved.path == str(tmp_path) and resolved.repo_id is None
    assert resolved.source_format == "transformers" and resolved.files == ("config.json",)


def test_private_repo_needs_hf_token_which_never_reaches_the_cdn(fake_hub, monkeypatch):
    fake_hub.add_files("org/private", TRANSFORMERS_REPO, private=True)
    with pytest.raises(download.PresetDownloadError, match="HF_TOKEN"):
        download.resolve("hf://org/private")
    monkeypatch.setenv("HF_TOKEN", "hf_zoo_test_write")
    resolved = download.resolve("hf://org/private")
    assert "model.safetensors" in resolved.files
    cdn = [r for r in fake_hub.requests if r[0] == "cdn"]
    assert cdn and not any(authorized for *_, authorized in cdn)
    hub = [r for r in fake_hub.requests if r[0] == "hub" and "/org/private/" in r[2]]
    assert all(authorized for *_, authorized in hub[-4:])


def test_hub_unreachable_with_nothing_cached_says_what_to_do(hf_home):
    with pytest.raises(download.HubUnreachableError) as e:
        download.resolve("hf://org/tfm")
    message = str(e.value)
    assert "cannot be reached" in message and "HF_HUB_OFFLINE" in message
    assert str(hf_home) in message and "hf://org/tfm" in message


def test_offline_mode_with_nothing_cached_names_the_switch(hf_home, monkeypatch):
    set_offline(monkeypatch)
    with pytest.raises(download.HubUnreachableError, match="HF_HUB_OFFLINE=1 is set") as e:
        download.resolve("bert_tiny")
    assert str(hf_home) in str(e.value)


def test_offline_from_the_cache_the_client_populated(fake_hub, monkeypatch):
    fake_hub.add_files("org/preset", zoo_preset_files())
    online = download.resolve("hf://org/preset")
    fake_hub.requests.clear()
    set_offline(monkeypatch)
    offline = download.resolve("hf://org/preset")
    assert (offline.path, offline.commit, offline.files) == (online.path, online.commit, online.files)
    assert fake_hub.requests == []  # nothing asked of the network
    # same answer when the network is merely down (not offline mode)
    set_offline(monkeypatch, False)
    fake_hub.stop()
    assert download.resolve("hf://org/preset").path == online.path


def test_offline_cache_with_a_missing_file_says_incomplete(fake_hub, monkeypatch):
    fake_hub.add_files("org/preset", zoo_preset_files())
    resolved = download.resolve("hf://org/preset")
    os.remove(os.path.join(resolved.path, "model.weights.h5"))
    set_offline(monkeypatch)
    with pytest.raises(download.HubUnreachableError, match="incomplete"):
        download.resolve("hf://org/preset")


def build_cache(cache, repo_id, files, commit="a" * 40):
    """The layout huggingface_hub writes: blobs by etag, refs/main, snapshot symlinks."""
    root = cache / ("models--" + repo_id.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    for name, data in files.items():
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(exist_ok=True)
        blob.write_bytes(data)
        link = root / "snapshots" / commit / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return str(root / "snapshots" / commit)


def test_offline_from_a_hand_built_cache(hf_home, monkeypatch):
    files = {k: v for k, v in TRANSFORMERS_REPO.items() if k in
             ("config.json", "model.safetensors", "vocab.txt")}
    snapshot = build_cache(hf_home, "google/bert_uncased_L-2_H-128_A-2", files)
    set_offline(monkeypatch)
    resolved = download.resolve("bert_tiny")
    assert resolved.path == snapshot and resolved.commit == "a" * 40
    assert sorted(resolved.files) == sorted(files)
    # and with the network down instead of offline mode
    set_offline(monkeypatch, False)
    assert download.resolve("hf://google/bert_uncased_L-2_H-128_A-2").path == snapshot


def test_hand_built_cache_missing_a_listed_file_is_reported(hf_home, monkeypatch):
    files = zoo_preset_files()
    del files["model.weights.h5"]
    build_cache(hf_home, "org/preset", files)
    set_offline(monkeypatch)
    with pytest.raises(download.HubUnreachableError, match=r"model\.weights\.h5"):
        download.resolve("hf://org/preset")


def test_registry_sha256_pins_metadata(tmp_path):
    (tmp_path / "metadata.json").write_bytes(b'{"files": {}}')
    digest = hashlib.sha256(b'{"files": {}}').hexdigest()

    class Entry:
        name, file, sha256 = "x", "x.toml", digest

    download.verify_registry_sha256(str(tmp_path), Entry)
    Entry.sha256 = "0" * 64
    with pytest.raises(download.PresetDownloadError, match="metadata.json has sha256"):
        download.verify_registry_sha256(str(tmp_path), Entry)


def test_describe_reports_cache_state(fake_hub):
    fake_hub.add_files("org/tfm", TRANSFORMERS_REPO)
    desc = download.describe("hf://org/tfm")
    assert desc.config == json.loads(CONFIG) and desc.source_format == "transformers"
    states = {name: path is not None for name, _, path in desc.files}
    assert states == {"config.json": True, "model.safetensors": False,
                      "tokenizer_config.json": False, "vocab.txt": False}
    download.resolve("hf://org/tfm")
    assert all(path for _, _, path in download.describe("hf://org/tfm").files)


def test_endpoint_switch_reaches_the_new_server(fake_hub, monkeypatch):
    # set_endpoint is what the fixtures use; the client must follow it without restart
    fake_hub.add_files("org/tfm", {"config.json": CONFIG})
    set_endpoint(monkeypatch, fake_hub.endpoint)
    assert download.resolve("hf://org/tfm").files == ("config.json",)


BERT_REFERENCES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "models", "bert",
                               "make_references.py")


@pytest.fixture(scope="module")
def bert_checkpoint(tmp_path_factory):
    """A random transformers BertForPreTraining checkpoint + reference outputs (written in a
    subprocess by tests/models/bert/make_references.py: torch must not share this process)."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("transformers") is None or not os.path.exists(BERT_REFERENCES):
        pytest.skip("needs transformers and the BERT reference script")
    out = tmp_path_factory.mktemp("bert_hub")
    result = subprocess.run([sys.executable, BERT_REFERENCES, str(out)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_a_registry_name_loads_a_transformers_checkpoint_from_the_hub(fake_hub, bert_checkpoint):
    import numpy as np

    import zoo
    from zoo import ops

    source = bert_checkpoint / "small" / "pretraining"
    files = {p.name: p.read_bytes() for p in source.iterdir()}
    files["vocab.txt"] = (bert_checkpoint / "vocab.txt").read_bytes()
    fake_hub.add_files("google/bert_uncased_L-2_H-128_A-2", files)
    model = zoo.Model.from_preset("bert_tiny")
    assert type(model).__name__ == "BertBackbone"
    ref = dict(np.load(bert_checkpoint / "small" / "reference.npz"))
    out = model({k: ref[k] for k in ("token_ids", "segment_ids", "padding_mask")})
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(ops.convert_to_numpy(out[key]), ref[key], atol=1e-5, rtol=1e-5)
