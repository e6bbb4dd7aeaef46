"""Hub test fixtures: every test here gets its own empty Hugging Face cache and no route to
the real Hub; ``fake_hub`` serves a loopback Hub (tests/hub/hf_server.py) to the real
huggingface_hub client."""
import os

import pytest
from huggingface_hub import constants

from tests.hub.hf_server import FakeHub

WRITE_TOKEN = "hf_zoo_test_write"


def _closed_port_endpoint():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens once the socket is closed


def set_endpoint(monkeypatch, endpoint):
    """Point huggingface_hub at ``endpoint``: the env var (for subprocesses) and the
    constants the installed client reads at call time."""
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        endpoint + "/{repo_id}/resolve/{revision}/{filename}")


def set_offline(monkeypatch, offline=True):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture(autouse=True)
def hf_home(tmp_path, monkeypatch):
    """An empty cache, no token, online mode, and an endpoint where nothing listens."""
    cache = tmp_path / "hf_cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no_tokens"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent_harnesses.json"))
    set_offline(monkeypatch, False)
    set_endpoint(monkeypatch, _closed_port_endpoint())
    yield cache


@pytest.fixture
def fake_hub(monkeypatch):
    """A running loopback Hub; HF_ENDPOINT points at it. It never advertises Xet, so
    downloads use plain HTTP even though hf_xet is installed."""
    with FakeHub(tokens=(WRITE_TOKEN,)) as hub:
        set_endpoint(monkeypatch, hub.endpoint)
        yield hub
    assert not hub.unhandled, f"requests the loopback hub did not serve: {hub.unhandled}"


@pytest.fixture
def write_token(monkeypatch):
    """HF_TOKEN with write access, and Xet off in the client: huggingface_hub uploads LFS
    files through Xet whenever hf_xet is installed (whatever the server says), and the
    loopback Hub speaks only the classic LFS batch protocol."""
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    return WRITE_TOKEN


def snapshot_files(folder):
    return sorted(os.path.relpath(os.path.join(r, n), folder).replace(os.sep, "/")
                  for r, _, names in os.walk(folder) for n in names)
