"""Worker processes for the benchmarks that compare zoo with a peer library in one run.

ZOO_BACKEND is read when zoo is imported, and torch/transformers must not share a process
with the TF or JAX backend, so each side runs in its own worker process, driven over pipes
in lock-step by the benchmark script (only one side computes at any moment):

    worker = Worker(__file__, "jax", directory)      # runs ``script --worker jax --dir ...``
    worker.ask(cmd="call", method="prepare", kwargs={"measure": "x"})  -> {"info": ...}
    worker.ask(cmd="time", measure="x", calls=3)     -> {"times": [...]} (seconds per call)

On the worker side the script calls ``serve(make_worker, directory)`` with a factory that
returns an object: ``call`` runs one of its methods, ``time`` times ``worker.fns[measure]``.
A failing command answers ``{"error": ...}`` and the run goes on.
"""
import json
import os
import subprocess
import sys
import time

ZOO_BACKENDS = ("jax", "torch", "tensorflow", "numpy")
REPLY = "@@bench "
# a zoo side that is a backend run another way: "torch-compiled" is torch with
# ``compile(jit_compile=True)`` (the worker reads ZOO_BENCH_SIDE to know)
COMPILED_SIDES = {"torch-compiled": "torch"}


def jit_compile_asked():
    """True in the worker of a ``*-compiled`` side."""
    return os.environ.get("ZOO_BENCH_SIDE") in COMPILED_SIDES


def serve(make_worker, directory):
    """The worker loop: one JSON command per stdin line, one JSON reply per command on the
    original stdout (libraries' own prints are sent to stderr)."""
    reply_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = None

    def reply(**data):
        reply_stream.write(REPLY + json.dumps(data) + "\n")
        reply_stream.flush()

    for line in sys.stdin:
        command = json.loads(line)
        kind = command["cmd"]
        if kind == "exit":
            break
        try:
            if worker is None:
                worker = make_worker(directory)
            if kind == "call":
                reply(info=getattr(worker, command["method"])(**command.get("kwargs", {})))
            elif kind == "time":
                fn = worker.fns[command["measure"]]
                times = []
                for _ in range(command["calls"]):
                    start = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - start)
                reply(times=times)
            else:
                reply(error=f"unknown command {kind!r}")
        except Exception as error:  # noqa: BLE001 - reported to the driver, the run goes on
            message = str(error).strip().splitlines()
            reply(error=f"{type(error).__name__}: {message[0][:300] if message else ''}")
    return 0


class TransformersSide:
    """The transformers worker's common state: torch, the run's directory, the checkpoint
    path every side loads, and the prepared measures (``fns``)."""

    def __init__(self, directory):
        import torch

        self.torch = torch
        self.directory = directory
        self.checkpoint = os.path.join(directory, "checkpoint")
        self.fns = {}


class Worker:
    """A worker process (``script --worker name --dir directory``) driven over pipes; its
    stderr goes to a log file in ``directory``."""

    def __init__(self, script, name, directory, env=None):
        self.name = name
        self.script = os.path.basename(script)
        env = dict(os.environ, **(env or {}))
        if name in ZOO_BACKENDS or name in COMPILED_SIDES:
            env["ZOO_BACKEND"] = COMPILED_SIDES.get(name, name)
            env["ZOO_BENCH_SIDE"] = name
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.log_path = os.path.join(directory, f"worker_{name}.log")
        self.log = open(self.log_path, "w")  # noqa: SIM115 - open while the worker lives
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(script), "--worker", name, "--dir", directory],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def ask(self, **command):
        """Send a command -> the reply dict (``error`` in it when the command failed)."""
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(REPLY):
                return json.loads(line[len(REPLY):])
        self.log.flush()
        with open(self.log_path) as f:
            tail = f.read()[-4000:]
        raise SystemExit(f"{self.script}: the {self.name} worker died (exit "
                         f"{self.process.wait()}); its log ends:\n{tail}")

    def call(self, method, **kwargs):
        return self.ask(cmd="call", method=method, kwargs=kwargs)

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
                self.process.stdin.close()
            except OSError:
                pass
            self.process.wait()
        self.log.close()


def compare(ref, zoo, measure, rounds, calls, **prepare_kwargs):
    """Prepare both sides, then alternate their timed calls -> (ref best, zoo best, infos)
    with an error string in place of a side that failed."""
    infos = []
    for side in (ref, zoo):
        answer = side.call("prepare", measure=measure, **prepare_kwargs)
        if "error" in answer:
            return answer["error"], answer["error"], infos
        infos.append(answer["info"])
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, side in enumerate((ref, zoo)):
            answer = side.ask(cmd="time", measure=measure, calls=calls)
            if "error" in answer:
                return answer["error"], answer["error"], infos
            best[i] = min([best[i]] + answer["times"])
    return best[0], best[1], infos


def cpu_name():
    """This CPU's model name (Linux /proc/cpuinfo), or "unknown CPU"."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), "unknown CPU")
    except OSError:
        return "unknown CPU"


def cpu_flags():
    """The bf16-related instruction sets this CPU reports (Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((set(line.split(":", 1)[1].split()) for line in f
                          if line.startswith("flags")), None)
    except OSError:
        flags = None
    if flags is None:
        return "flags unknown"
    wanted = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx_vnni")
    return ", ".join(f"{w}={'yes' if w in flags else 'no'}" for w in wanted)


def run_measures(script, directory, backends, measures, rounds, calls, small,
                 reference="transformers"):
    """The driver loop both benchmarks share: a reference worker writes the checkpoint
    (its ``make_checkpoint(small)``), then one zoo worker per backend, in turn, measures
    against it. Yields ``(backend, measure, ref_time, zoo_time, infos, seconds)``; the
    first item yielded is the reference's checkpoint info as ``(reference, info)``."""
    ref = Worker(script, reference, directory)
    try:
        answer = ref.call("make_checkpoint", small=small)
        if "error" in answer:
            raise SystemExit(f"{os.path.basename(script)}: writing the checkpoint failed: "
                             f"{answer['error']}")
        yield reference, answer["info"]
        for name in backends:
            zoo = Worker(script, name, directory)
            try:
                for measure in measures:
                    start = time.perf_counter()
                    ref_time, zoo_time, infos = compare(ref, zoo, measure, rounds, calls)
                    yield name, measure, ref_time, zoo_time, infos, time.perf_counter() - start
            finally:
                zoo.close()
    finally:
        ref.close()
