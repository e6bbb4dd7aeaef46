"""BERT speed: zoo on each backend against transformers (torch eager), same random weights.

One run of this script:
1. writes a random ``transformers`` BertForSequenceClassification (bert-base config unless
   ``--small``) with ``save_pretrained`` (safetensors) to a temp dir, and one batch
   (8 x 128 token ids with some padding, segment ids, labels);
2. measures, per zoo backend, against transformers:
   - forward fp32: ``BertBackbone.from_preset(dir)`` / transformers ``BertModel``;
   - forward bf16: ``from_preset(dir, dtype="bfloat16")`` / ``.to(torch.bfloat16)``;
   - one fine-tuning step, AdamW + sparse cross-entropy: zoo ``train_on_batch`` on
     ``BertTextClassifier.from_preset(dir, num_classes=2)`` / transformers
     ``model(**inputs, labels=y).loss.backward(); AdamW.step(); zero_grad()``;
   zoo's forward is ``predict_on_batch`` (jax: jitted; tensorflow: tf.function; torch and
   numpy: eager under no_grad; ``torch-compiled``: torch after ``compile(jit_compile=True)``,
   one traced graph compiled by inductor), transformers' runs under
   ``torch.inference_mode()``;
3. checks that every backend's outputs agree with transformers' (max |diff| printed);
4. prints seconds per call and ratio = transformers time / zoo time (higher is better).

Processes: ZOO_BACKEND is read when zoo is imported, and torch/transformers must not share a
process with the TF or JAX backend, so transformers runs in one worker process and each zoo
backend in another, one zoo backend at a time (at most two processes, about 6 GB together
for bert-base). The two are driven in lock-step, so only one computes at any moment, and
the timed calls alternate: transformers, zoo, transformers, zoo, ... (``--rounds`` times
``--calls`` calls each, after a warm-up); each side's fastest call counts, so load from
other processes that comes and goes hits both sides alike.

    python scripts/bench_bert.py [--rounds 5] [--calls 1]
                                 [--backends jax,torch,torch-compiled,tensorflow]
                                 [--small] [--skip-bf16]
"""
import argparse
import gc
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_workers import (  # noqa: E402
    COMPILED_SIDES,
    ZOO_BACKENDS,
    TransformersSide,
    ZooSide,
    add_common_options,
    chosen,
    cpu_flags,
    cpu_line,
    jit_compile_asked,
    run_measures,
    serve,
    worker_factory,
)

REFERENCE = "transformers"
BASE = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
        "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
        "type_vocab_size": 2}
SMALL = {"vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 128, "max_position_embeddings": 128, "type_vocab_size": 2}
BATCH, LENGTH = 8, 128
LEARNING_RATE, WEIGHT_DECAY, EPSILON = 5e-5, 0.01, 1e-8
MEASURES = ("forward_fp32", "forward_bf16", "train_step")


# -- the batch ----------------------------------------------------------------------------------

def make_batch(config, small):
    """Token ids with padding at the end of most rows, two segments, binary labels."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(LENGTH // 2, LENGTH + 1, BATCH)
    lengths[0] = LENGTH
    positions = np.arange(LENGTH)[None, :]
    padding_mask = (positions < lengths[:, None]).astype("int32")
    token_ids = rng.integers(5 if small else 1000, config["vocab_size"], (BATCH, LENGTH))
    token_ids = np.where(padding_mask == 1, token_ids, 0).astype("int32")
    token_ids[:, 0] = 2 if small else 101  # [CLS]
    segment_ids = ((positions >= lengths[:, None] // 2) & (padding_mask == 1)).astype("int32")
    labels = rng.integers(0, 2, BATCH).astype("int32")
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask,
            "labels": labels}


def load_batch(directory):
    with np.load(os.path.join(directory, "batch.npz")) as data:
        return {k: data[k] for k in data.files}


def save_outputs(directory, name, outputs):
    np.savez(os.path.join(directory, f"outputs_{name}.npz"),
             **{k: np.asarray(v, "float32") for k, v in outputs.items()})


# -- worker side --------------------------------------------------------------------------------

class TransformersWorker(TransformersSide):
    """transformers (torch eager): prepared measures stay alive for every zoo backend."""

    def make_checkpoint(self, small):
        from transformers import BertConfig, BertForSequenceClassification

        self.torch.manual_seed(0)
        config = SMALL if small else BASE
        model = BertForSequenceClassification(BertConfig(**config, num_labels=2))
        model.save_pretrained(self.checkpoint, safe_serialization=True)
        np.savez(os.path.join(self.directory, "batch.npz"), **make_batch(config, small))
        return {"threads": self.torch.get_num_threads(),
                "attention": str(model.config._attn_implementation)}

    def _load(self):
        from transformers import BertForSequenceClassification

        torch = self.torch
        batch = load_batch(self.directory)
        self.inputs = {"input_ids": torch.from_numpy(batch["token_ids"]).long(),
                       "token_type_ids": torch.from_numpy(batch["segment_ids"]).long(),
                       "attention_mask": torch.from_numpy(batch["padding_mask"]).long()}
        self.labels = torch.from_numpy(batch["labels"]).long()
        return BertForSequenceClassification.from_pretrained(self.checkpoint)

    def prepare(self, measure):
        if measure in self.fns:
            return {}
        torch = self.torch
        model = self._load()
        info = {}
        if measure in ("forward_fp32", "forward_bf16"):
            model.eval()
            if measure == "forward_bf16":
                model.to(torch.bfloat16)
            bert = model.bert

            def forward():
                with torch.inference_mode():
                    return bert(**self.inputs)

            out = forward()
            outputs = {"sequence_output": out.last_hidden_state,
                       "pooled_output": out.pooler_output}
            if measure == "forward_fp32":
                with torch.inference_mode():
                    outputs["logits"] = model(**self.inputs).logits
            save_outputs(self.directory, f"{REFERENCE}_{measure}",
                         {k: v.float().numpy() for k, v in outputs.items()})
            self.fns[measure] = forward
        else:
            model.train()
            optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE,
                                          weight_decay=WEIGHT_DECAY, eps=EPSILON)

            def step():
                loss = model(**self.inputs, labels=self.labels).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                return float(loss)

            info["first_loss"] = step()
            self.fns[measure] = step
        return info


class ZooWorker(ZooSide):
    """One zoo backend (ZOO_BACKEND is set by the driver): one measure alive at a time."""

    def __init__(self, directory):
        super().__init__(directory)
        self.name = os.environ.get("ZOO_BENCH_SIDE") or self.backend
        self.jit_compile = jit_compile_asked()
        self.checkpoint = os.path.join(directory, "checkpoint")
        batch = load_batch(directory)
        self.x = {k: batch[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        self.y = batch["labels"]

    def prepare(self, measure):
        from zoo.models import BertBackbone, BertTextClassifier

        self.fns.clear()
        gc.collect()
        info = {}
        x = self.x
        if measure in ("forward_fp32", "forward_bf16"):
            start = time.perf_counter()
            dtype = "bfloat16" if measure == "forward_bf16" else None
            backbone = BertBackbone.from_preset(self.checkpoint, dtype=dtype)
            if self.jit_compile:
                backbone.compile(jit_compile=True)
            outputs = dict(backbone.predict_on_batch(x))
            info["first_call"] = time.perf_counter() - start
            if measure == "forward_fp32":
                classifier = BertTextClassifier.from_preset(self.checkpoint, num_classes=2)
                if self.jit_compile:
                    classifier.compile(jit_compile=True)
                outputs["logits"] = classifier.predict_on_batch(x)
                del classifier
            save_outputs(self.directory, f"{self.name}_{measure}", outputs)
            self.fns[measure] = lambda: backbone.predict_on_batch(x)
        else:
            if self.name == "numpy":
                raise RuntimeError("the numpy backend cannot train")
            classifier = BertTextClassifier.from_preset(self.checkpoint, num_classes=2)
            classifier.compile(optimizer=self.zoo.optimizers.AdamW(
                LEARNING_RATE, weight_decay=WEIGHT_DECAY, epsilon=EPSILON),
                jit_compile=True if self.jit_compile else "auto")

            def step():
                return classifier.train_on_batch(x, self.y, return_dict=True)["loss"]

            info["first_loss"] = step()
            self.fns[measure] = step
        return info


make_worker = worker_factory(REFERENCE, TransformersWorker, ZooWorker)


# -- driver side --------------------------------------------------------------------------------

def max_diffs(directory, name, measure, against=REFERENCE, against_measure=None):
    """Max |name's outputs - against's outputs| per output of a forward measure."""
    paths = [os.path.join(directory, f"outputs_{against}_{against_measure or measure}.npz"),
             os.path.join(directory, f"outputs_{name}_{measure}.npz")]
    if not all(os.path.exists(p) for p in paths):
        return {}
    with np.load(paths[0]) as ref, np.load(paths[1]) as got:
        return {k: float(np.max(np.abs(got[k] - ref[k]))) for k in got.files if k in ref.files}


def diff_text(diffs):
    return ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())


def print_table(rows, cpu):
    print("\n== seconds per call (each side's best; measured in alternation) and ratio = "
          "transformers / zoo (higher is better; 1.0 = equal) ==")
    print(f"{'measure':14s} {'backend':11s} {'zoo':>10s} {'transformers':>13s} {'ratio':>7s}")
    for measure, name, ref_time, zoo_time in rows:
        if isinstance(ref_time, float) and isinstance(zoo_time, float):
            print(f"{measure:14s} {name:11s} {zoo_time:9.4f}s {ref_time:12.4f}s "
                  f"{ref_time / zoo_time:6.2f}x")
        else:
            print(f"{measure:14s} {name:11s} {'--':>10s} {'--':>13s} {'--':>7s}  {zoo_time}")
    times = {(m, n): (r, z) for m, n, r, z in rows}
    notes = []
    for name in dict.fromkeys(n for _, n, _, _ in rows):
        fp32, bf16 = times.get(("forward_fp32", name)), times.get(("forward_bf16", name))
        if fp32 and bf16 and all(isinstance(t, float) for t in fp32 + bf16):
            notes.append(f"{name} {bf16[1] / fp32[1]:.2f} (transformers {bf16[0] / fp32[0]:.2f})")
    if notes:
        print("\nbf16 / fp32 forward time, < 1 when bf16 is faster: " + ", ".join(notes))
        fastest = {}
        for kind in ("forward_fp32", "forward_bf16"):
            timed = [(t[1], n) for (m, n), t in times.items()
                     if m == kind and isinstance(t[1], float)]
            fastest[kind] = min(timed) if timed else None
        if fastest["forward_fp32"] and fastest["forward_bf16"]:
            (bf16, bf16_name), (fp32, fp32_name) = fastest["forward_bf16"], fastest["forward_fp32"]
            print(f"zoo's fastest bf16 forward ({bf16_name}, {bf16:.4f} s) against its fastest "
                  f"fp32 forward ({fp32_name}, {fp32:.4f} s): {bf16 / fp32:.2f}")
        print(f"CPU: {cpu}. bf16 products gain where the CPU multiplies bf16 natively "
              f"(avx512_bf16, AMX) and the backend's kernels use it (oneDNN for torch); "
              f"elsewhere they are converted to fp32 and cost more than fp32.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_options(parser, "jax,torch,torch-compiled,tensorflow", rounds=5,
                       rounds_help="alternations between transformers and zoo per measure",
                       backends_help="comma-separated zoo backends (numpy is optional: it "
                                     "is slow)")
    parser.add_argument("--calls", type=int, default=1, help="timed calls per side per round")
    parser.add_argument("--small", action="store_true", help="a tiny config for a quick check")
    parser.add_argument("--skip-bf16", action="store_true", help="skip the bf16 forward")
    args = parser.parse_args(argv)
    if args.worker:
        return serve(make_worker(args.worker), args.dir)

    backends, _ = chosen(parser, args, sides=list(ZOO_BACKENDS) + list(COMPILED_SIDES))
    if args.calls < 1:
        parser.error("--calls must be >= 1")
    measures = [m for m in MEASURES if not (args.skip_bf16 and m == "forward_bf16")]
    config = SMALL if args.small else BASE
    cpu = cpu_flags()
    print(f"BERT {'small' if args.small else 'base'} {config}; batch {BATCH} x {LENGTH}")
    print(cpu_line())
    rows = []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-bert-") as directory:
        results = run_measures(__file__, directory, backends, measures, args.rounds,
                               args.calls, args.small, REFERENCE)
        print(f"transformers: {next(results)[1]}")
        for name, measure, ref_time, zoo_time, infos, seconds in results:
            rows.append((measure, name, ref_time, zoo_time))
            line = (f"zoo {zoo_time:.4f} s, transformers {ref_time:.4f} s"
                    if isinstance(zoo_time, float) else f"failed: {zoo_time}")
            diffs = max_diffs(directory, name, measure)
            if diffs:
                line += f"; max |zoo - transformers| {diff_text(diffs)}"
            if measure == "forward_bf16" and diffs:
                line += ("; max |bf16 - transformers fp32|: zoo " + diff_text(
                    max_diffs(directory, name, measure, REFERENCE, "forward_fp32"))
                    + ", transformers " + diff_text(max_diffs(
                        directory, REFERENCE, measure, REFERENCE, "forward_fp32")))
            first = [i["first_call"] for i in infos if "first_call" in i]
            if first:
                line += f"; zoo's first call {first[0]:.1f} s (load, compile)"
            losses = [i["first_loss"] for i in infos if "first_loss" in i]
            if len(losses) == 2:
                line += (f"; first loss transformers {losses[0]:.4f}, zoo "
                         f"{losses[1]:.4f} (dropout on)")
            print(f"[{name}] {measure}: {line} ({seconds:.0f} s)", flush=True)
    print_table(rows, cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
