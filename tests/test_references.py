"""tests/references.py: a reference script runs once, in a clean child process, with extra
sys.path entries; failures show its stderr; a missing peer package skips."""
import os
import textwrap

import pytest

from tests.references import make_references
from tests.subprocesses import SubprocessError


def write_script(tmp_path, body, name="make_references.py"):
    path = tmp_path / "peer" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("import os, sys\nout = sys.argv[1]\n" + textwrap.dedent(body))
    return path


def test_runs_once_and_returns_a_complete_directory(tmp_path):
    runs = tmp_path / "runs.txt"
    script = write_script(tmp_path, f"""
        with open({str(runs)!r}, "a") as f:
            f.write("ran\\n")
        with open(os.path.join(out, "answer.txt"), "w") as f:
            f.write(" ".join(sys.argv[2:]) + "|" + str(os.environ.get("ZOO_BACKEND")))
    """)
    first = make_references(script, tmp_path / "cache", args=("a", "b"))
    again = make_references(script, tmp_path / "cache", args=("a", "b"))
    assert first == again and runs.read_text() == "ran\n"
    # the arguments follow the output directory; nothing of this session's environment leaks
    assert open(os.path.join(first, "answer.txt")).read() == "a b|None"
    assert os.listdir(tmp_path / "cache") == [os.path.basename(first)]  # no partial left


def test_failure_shows_the_scripts_stderr(tmp_path):
    script = write_script(tmp_path, """
        print("some progress")
        sys.stderr.write("Traceback: the peer is unhappy (marker 1234)\\n")
        sys.exit(3)
    """)
    with pytest.raises(SubprocessError) as info:
        make_references(script, tmp_path / "cache")
    message = str(info.value)
    assert "make_references.py" in message and "status 3" in message
    assert "the peer is unhappy (marker 1234)" in message and "some progress" in message
    # the same failure is raised again without running the script a second time
    os.remove(script)
    with pytest.raises(SubprocessError, match="marker 1234"):
        make_references(script, tmp_path / "cache")
    assert not any(not name.startswith("peer_make_references.partial-")
                   for name in os.listdir(tmp_path / "cache")), "only a partial directory"


def test_timeout_is_an_error(tmp_path):
    script = write_script(tmp_path, """
        sys.stderr.write("started\\n"); sys.stderr.flush()
        import time; time.sleep(60)
    """)
    with pytest.raises(SubprocessError, match="timeout of 1 s"):
        make_references(script, tmp_path / "cache", timeout=1)


def test_python_path_is_on_the_childs_sys_path(tmp_path):
    stand_in = tmp_path / "stand_in"
    (stand_in / "zoo_fake_peer").mkdir(parents=True)
    (stand_in / "zoo_fake_peer" / "__init__.py").write_text("VALUE = 42\n")
    script = write_script(tmp_path, """
        import zoo_fake_peer
        with open(os.path.join(out, "peer.txt"), "w") as f:
            f.write(f"{zoo_fake_peer.VALUE} {zoo_fake_peer.__file__}")
    """)
    out = make_references(script, tmp_path / "cache", requires=("zoo_fake_peer",),
                          python_path=[stand_in])
    value, location = open(os.path.join(out, "peer.txt")).read().split(" ", 1)
    assert value == "42" and location.startswith(str(stand_in))


def test_python_path_shadows_an_installed_package(tmp_path):
    # the YOLOv8 tests put a stand-in torchvision before the installed packages this way
    stand_in = tmp_path / "stand_in" / "numpy"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text("STAND_IN = True\n")
    script = write_script(tmp_path, """
        import numpy
        with open(os.path.join(out, "which.txt"), "w") as f:
            f.write(str(getattr(numpy, "STAND_IN", False)))
    """)
    out = make_references(script, tmp_path / "cache", python_path=[tmp_path / "stand_in"])
    assert open(os.path.join(out, "which.txt")).read() == "True"


def test_missing_package_skips(tmp_path):
    runs = tmp_path / "runs.txt"
    script = write_script(tmp_path, f"open({str(runs)!r}, 'w').write('ran')\n")
    with pytest.raises(pytest.skip.Exception, match="zoo_no_such_peer not installed"):
        make_references(script, tmp_path / "cache", requires=("numpy", "zoo_no_such_peer"))
    assert not runs.exists(), "the script does not run without its packages"
