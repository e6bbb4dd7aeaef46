"""Running Python in a child process from a test, with errors that show what it printed.

    run_python(["script.py", "out"], env=clean_environment(), timeout=600, what="the script")
    run_on_backends(["-m", "tests.preset_runner", ...], backends=BACKENDS)  # all at once

A child process is how a test gets a fresh interpreter: another ``ZOO_BACKEND`` (chosen
once per process), or a peer library (transformers imports torch, which must not share a
process with the backend under test).
"""
import importlib.util
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("jax", "torch", "tensorflow", "numpy")
# Passed on to clean child environments: where programs and the home directory are, the
# locale, temporary files, and thread limits (a shared machine's settings stay in force).
KEPT_VARIABLES = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "TEMP", "TMP",
                  "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TAIL = 4000  # characters of a failed child's output shown in the error


class SubprocessError(RuntimeError):
    """A child process failed or timed out; the message ends with the tail of its stderr
    (and stdout)."""


def clean_environment(python_path=(), extra=None):
    """Only KEPT_VARIABLES of this process's environment, ``PYTHONPATH`` = ``python_path``
    (entries searched before the installed packages), no user site, no network for the
    Hugging Face libraries, and ``extra`` on top."""
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env.update(PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(os.fspath(p) for p in python_path)
    env.update(extra or {})
    return env


def backend_environment(backend):
    """This process's environment with ``ZOO_BACKEND=backend`` and the repository importable
    (``python -m tests.x`` works from any directory); the 8-device flag the test session
    sets for JAX is dropped (TensorFlow's XLA reads it too)."""
    env = dict(os.environ, ZOO_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", HF_HUB_OFFLINE="1")
    flags = [f for f in env.get("XLA_FLAGS", "").split()
             if not f.startswith("--xla_force_host_platform_device_count")]
    if flags:
        env["XLA_FLAGS"] = " ".join(flags)
    else:
        env.pop("XLA_FLAGS", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    return env


def _failure(what, command, returncode, stdout, stderr, reason=None):
    reason = reason or f"exited with status {returncode}"
    text = f"{what} {reason}\n  command: {' '.join(command)}"
    if stderr and stderr.strip():
        text += f"\n--- stderr (last {TAIL} characters) ---\n{stderr[-TAIL:]}"
    if stdout and stdout.strip():
        text += f"\n--- stdout (last {TAIL} characters) ---\n{stdout[-TAIL:]}"
    return SubprocessError(text)


def _text(output):
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def run_python(args, env, timeout, cwd=None, what="the child process"):
    """Run ``python *args`` (this interpreter); -> its stdout. Raises SubprocessError,
    showing its stderr, when it fails or runs past ``timeout`` seconds."""
    command = [sys.executable, *map(os.fspath, args)]
    try:
        result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired as timed_out:
        raise _failure(what, command, None, _text(timed_out.stdout), _text(timed_out.stderr),
                       reason=f"ran past its timeout of {timeout} s") from None
    if result.returncode != 0:
        raise _failure(what, command, result.returncode, result.stdout, result.stderr)
    return result.stdout


def installed(backend):
    return importlib.util.find_spec(backend) is not None


def run_on_backends(args, backends=BACKENDS, timeout=600, what="python"):
    """Run ``python *args`` once per installed backend, all at the same time, each with
    ``ZOO_BACKEND`` set (see backend_environment), from the repository root;
    -> ``{backend: stdout}``. Raises SubprocessError naming the first backend that failed."""
    command = [sys.executable, *map(os.fspath, args)]
    running = {backend: subprocess.Popen(command, cwd=ROOT, env=backend_environment(backend),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)
               for backend in backends if installed(backend)}
    results, failures = {}, []
    deadline = time.monotonic() + timeout  # for them all: they run side by side
    for backend, process in running.items():
        label = f"{what} under ZOO_BACKEND={backend}"
        try:
            stdout, stderr = process.communicate(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            failures.append(_failure(label, command, None, stdout, stderr,
                                     reason=f"ran past its timeout of {timeout} s"))
            continue
        if process.returncode != 0:
            failures.append(_failure(label, command, process.returncode, stdout, stderr))
        results[backend] = stdout
    if failures:
        raise failures[0]
    return results
