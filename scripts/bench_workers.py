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

Also shared by the scripts: the machine header (``cpu_line``, ``vector_flags``,
``clock_line``, ``commit``, ``gemm_rate``), the common options (``add_common_options``,
``chosen``) and the driver loop ``run_measures`` (one reference worker, one zoo worker per
backend in turn, each measure timed by ``compare``).
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


class ZooSide:
    """A zoo worker's common state: zoo imported from this checkout (on the backend that
    ZOO_BACKEND names), the backend's name, the run's directory and the prepared measures."""

    def __init__(self, directory):
        sys.path.insert(0, ROOT)
        import zoo

        self.zoo = zoo
        self.backend = zoo.config.backend()
        self.directory = directory
        self.fns = {}


def worker_factory(reference, reference_cls, zoo_cls):
    """``make_worker`` for ``serve``: the worker named ``reference`` is a reference_cls,
    any other (a zoo backend) a zoo_cls; each is made from the run's directory."""
    return lambda name: lambda directory: (
        reference_cls if name == reference else zoo_cls)(directory)


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


def compare(ref, zoo, measure, rounds, calls, settle=0.0, **prepare_kwargs):
    """Prepare both sides, then alternate their timed calls -> (ref best, zoo best, infos)
    with an error string in place of a side that failed. ``settle``: seconds to wait before
    each side's turn, so that the other side's idle threads stop spinning (OpenBLAS and
    OpenMP threads busy-wait a while after their work: on a machine with few cores they
    take cores from the side being timed)."""
    infos = []
    for side in (ref, zoo):
        answer = side.call("prepare", measure=measure, **prepare_kwargs)
        if "error" in answer:
            return answer["error"], answer["error"], infos
        infos.append(answer["info"])
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, side in enumerate((ref, zoo)):
            if settle:
                time.sleep(settle)
            answer = side.ask(cmd="time", measure=measure, calls=calls)
            if "error" in answer:
                return answer["error"], answer["error"], infos
            best[i] = min([best[i]] + answer["times"])
    return best[0], best[1], infos


# -- the machine and the common options of the benchmark scripts ------------------------------

BF16_FLAGS = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx_vnni")


def _cpuinfo(key):
    """The value of the first /proc/cpuinfo line that starts with ``key`` (Linux), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(key)),
                        None)
    except OSError:
        return None


def _flag_set():
    flags = _cpuinfo("flags")
    return None if flags is None else set(flags.split())


def cpu_name():
    """This CPU's model name, or "unknown CPU"."""
    return _cpuinfo("model name") or "unknown CPU"


def cpu_flags(wanted=BF16_FLAGS):
    """Whether this CPU reports each of ``wanted`` (the bf16-related instruction sets)."""
    flags = _flag_set()
    if flags is None:
        return "flags unknown"
    return ", ".join(f"{w}={'yes' if w in flags else 'no'}" for w in wanted)


def vector_flags(prefixes=("avx2", "avx512", "amx")):
    """The flags of this CPU's vector units that start with one of ``prefixes``."""
    flags = _flag_set()
    if flags is None:
        return "flags unknown"
    return " ".join(sorted(f for f in flags if f.startswith(prefixes))) or "none"


def bf16_units():
    """Whether the CPU multiplies bf16 natively (avx512_bf16, amx_bf16)."""
    flags = _flag_set()
    if flags is None:
        return "unknown"
    found = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return (f"yes ({', '.join(found)})" if found else
            "NO (neither avx512_bf16 nor amx_bf16): bf16 products are converted to fp32")


def cpu_line(bf16=False):
    """The header line: the CPU model, its cores and bf16 flags (and, with ``bf16``,
    whether it has bf16 units)."""
    line = f"CPU: {cpu_name()}, {os.cpu_count()} cores; {cpu_flags()}"
    return line + (f"; bf16 units: {bf16_units()}" if bf16 else "")


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def clock_line():
    """The time (UTC) and the load average, for the top of a run."""
    return f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load_average()}"


def commit():
    """The short hash of the checkout's HEAD, or "unknown"."""
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def gemm_rate(matmul, dtype, shape=(1500, 384, 1536), repeats=5):
    """GFLOP/s of one (m x k) @ (k x n) product, ``shape`` = (m, k, n), the best of
    ``repeats`` runs of 10; ``dtype`` turns the float32 NumPy operands into ``matmul``'s
    (the default shape is Whisper tiny's encoder FFN product)."""
    import numpy as np

    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype("float32") for s in ((m, k), (k, n)))
    a, b = dtype(a), dtype(b)
    best = float("inf")
    matmul(a, b)
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(10):
            matmul(a, b)
        best = min(best, (time.perf_counter() - start) / 10)
    return 2 * m * k * n / best / 1e9


def add_common_options(parser, backends, rounds=3, measures=None,
                       rounds_help="alternations between the reference and zoo per measure",
                       backends_help="comma-separated zoo backends, each in its own process"):
    """--rounds, --backends, --measures (when ``measures`` is given, all by default) and the
    hidden --worker / --dir of the worker processes."""
    parser.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    parser.add_argument("--backends", default=backends, help=backends_help)
    if measures is not None:
        parser.add_argument("--measures", default=",".join(measures))
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dir", default=None, help=argparse.SUPPRESS)


def chosen(parser, args, sides=ZOO_BACKENDS, measures=None):
    """--backends (and --measures) as lists, checked against ``sides`` (and ``measures``),
    and --rounds >= 1; a parser error otherwise."""
    split = lambda text: [x.strip() for x in text.split(",") if x.strip()]  # noqa: E731
    backends = split(args.backends)
    picked = split(args.measures) if measures is not None else []
    if not backends or set(backends) - set(sides) or set(picked) - set(measures or ()):
        parser.error(f"--backends from {list(sides)}"
                     + (f", --measures from {list(measures)}" if measures else ""))
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    return backends, picked


def run_measures(script, directory, backends, measures, rounds, calls, small,
                 reference="transformers", reference_env=None, settle=0.0):
    """The driver loop both benchmarks share: a reference worker writes the checkpoint
    (its ``make_checkpoint(small)``), then one zoo worker per backend, in turn, measures
    against it. Yields ``(backend, measure, ref_time, zoo_time, infos, seconds)``; the
    first item yielded is the reference's checkpoint info as ``(reference, info)``;
    ``reference_env``: environment variables of the reference's worker; ``settle``: see
    ``compare``."""
    ref = Worker(script, reference, directory, env=reference_env)
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
                    ref_time, zoo_time, infos = compare(ref, zoo, measure, rounds, calls,
                                                        settle)
                    yield name, measure, ref_time, zoo_time, infos, time.perf_counter() - start
            finally:
                zoo.close()
    finally:
        ref.close()
