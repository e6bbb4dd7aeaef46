"""Generation speed: zoo's OPTCausalLM.generate on each backend against transformers'
OPTForCausalLM.generate (torch, KV cache), same random weights, greedy, fp32.

One run of this script:
1. writes a random ``transformers`` OPTForCausalLM (opt-125m config unless ``--small``)
   with ``save_pretrained`` and a batch of prompts (8 x 32 random token ids);
2. per zoo backend (``OPTCausalLM.from_preset(dir)``, converted on load), against
   transformers, measures
   - ``generate_b1`` / ``generate_b8``: 64 new tokens for 1 / 8 prompts (no stop token, so
     both sides make all 64);
   - ``first_token_b1`` / ``first_token_b8``: 1 new token, i.e. time to first token;
   - ``lookup_b1``: ``generate_b1`` with ``prompt_lookup_num_tokens=10`` on both sides (the
     same greedy tokens in fewer passes; random weights repeat themselves a lot, so this
     shows what the loop costs when guesses hit, not what real text gains);
   and reports the compile time separately (first call minus the best steady call: jax
   jit, TF XLA; torch and numpy compile nothing);
3. checks that both sides generated the same tokens;
4. prints tokens/s and ratio = transformers time / zoo time (higher is better).

Each side runs in its own worker process (scripts/bench_workers.py), one zoo backend at a
time; timed calls alternate between transformers and zoo and each side's best counts.

    python scripts/bench_generate.py [--rounds 3] [--backends jax,torch,tensorflow] [--small]
                                     [--new-tokens 64]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_workers import (  # noqa: E402
    TransformersSide,
    add_common_options,
    chosen,
    cpu_line,
    run_measures,
    serve,
    worker_factory,
)

REFERENCE = "transformers"
OPT_125M = {"vocab_size": 50272, "hidden_size": 768, "num_hidden_layers": 12,
            "ffn_dim": 3072, "num_attention_heads": 12, "max_position_embeddings": 2048,
            "word_embed_proj_dim": 768, "do_layer_norm_before": True}
SMALL = {"vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2, "ffn_dim": 128,
         "num_attention_heads": 4, "max_position_embeddings": 256,
         "word_embed_proj_dim": 64, "do_layer_norm_before": True}
PROMPT, BATCHES = 32, (1, 8)
# --new-tokens reaches the worker processes through the environment
NEW_TOKENS = int(os.environ.get("ZOO_BENCH_NEW_TOKENS", "64"))
LOOKUP = 10  # prompt_lookup_num_tokens of the lookup_b1 measure (transformers' name too)
MEASURES = ("generate_b1", "generate_b8", "first_token_b1", "first_token_b8", "lookup_b1")


def measure_shape(measure):
    """-> (batch, new tokens) of a measure."""
    kind, batch = measure.rsplit("_b", 1)
    return int(batch), 1 if kind == "first_token" else NEW_TOKENS


def lookup_count(measure):
    """prompt_lookup_num_tokens for a measure: LOOKUP for lookup_b*, else None."""
    return LOOKUP if measure.startswith("lookup") else None


def save_tokens(directory, name, measure, tokens):
    np.save(os.path.join(directory, f"tokens_{name}_{measure}.npy"), np.asarray(tokens))


class TransformersWorker(TransformersSide):
    model = None

    def make_checkpoint(self, small):
        from transformers import OPTConfig, OPTForCausalLM

        self.torch.manual_seed(0)
        config = OPTConfig(**(SMALL if small else OPT_125M), dropout=0.0, pad_token_id=1,
                           bos_token_id=2, eos_token_id=2)
        OPTForCausalLM(config).save_pretrained(self.checkpoint, safe_serialization=True)
        rng = np.random.default_rng(0)
        prompts = rng.integers(3, config.vocab_size, (max(BATCHES), PROMPT)).astype(np.int32)
        prompts[:, 0] = 2  # OPT's start token
        np.save(os.path.join(self.directory, "prompts.npy"), prompts)
        return {"threads": self.torch.get_num_threads()}

    def prepare(self, measure):
        from transformers import OPTForCausalLM

        torch = self.torch
        if self.model is None:
            self.model = OPTForCausalLM.from_pretrained(self.checkpoint).eval()
            self.model.generation_config.eos_token_id = None  # make every new token
            self.model.generation_config.pad_token_id = 1
        batch, new = measure_shape(measure)
        ids = torch.from_numpy(np.load(os.path.join(self.directory, "prompts.npy"))[:batch])
        ids = ids.long()
        attention_mask = torch.ones_like(ids)

        def generate():
            with torch.inference_mode():
                return self.model.generate(input_ids=ids, attention_mask=attention_mask,
                                           max_new_tokens=new, min_new_tokens=new,
                                           do_sample=False, num_beams=1,
                                           prompt_lookup_num_tokens=lookup_count(measure))

        start = time.perf_counter()
        out = generate()
        first = time.perf_counter() - start
        save_tokens(self.directory, REFERENCE, measure, out[:, PROMPT:].numpy())
        self.fns[measure] = generate
        return {"first_call": first, "new_tokens": int(out.shape[1] - PROMPT),
                "attention": str(self.model.config._attn_implementation)}


class ZooWorker:
    def __init__(self, directory):
        self.directory = directory
        self.fns = {}
        self.model = None

    def prepare(self, measure):
        from zoo.models import OPTCausalLM

        if self.model is None:
            self.model = OPTCausalLM.from_preset(os.path.join(self.directory, "checkpoint"))
        batch, new = measure_shape(measure)
        ids = np.load(os.path.join(self.directory, "prompts.npy"))[:batch]
        inputs = {"token_ids": ids, "padding_mask": np.ones_like(ids)}

        def generate():
            return self.model.generate(inputs, max_new_tokens=new, stop_token_ids=None,
                                       prompt_lookup_num_tokens=lookup_count(measure))

        start = time.perf_counter()
        out = generate()
        first = time.perf_counter() - start
        save_tokens(self.directory, os.environ["ZOO_BACKEND"], measure,
                    out["token_ids"][:, PROMPT:PROMPT + new])
        self.fns[measure] = generate
        info = {"first_call": first, "new_tokens": int(out["padding_mask"][0].sum() - PROMPT)}
        if os.environ["ZOO_BACKEND"] == "torch":
            from zoo.backend.torch import accel

            info["packed"] = accel.packed_kernel_choices()
        return info


make_worker = worker_factory(REFERENCE, TransformersWorker, ZooWorker)


def same_tokens(directory, name, measure):
    paths = [os.path.join(directory, f"tokens_{n}_{measure}.npy") for n in (REFERENCE, name)]
    if not all(os.path.exists(p) for p in paths):
        return "tokens missing"
    ref, got = (np.load(p) for p in paths)
    if ref.shape != got.shape:
        return f"shapes differ {ref.shape} vs {got.shape}"
    equal = (ref == got).all(axis=1)
    if equal.all():
        return "identical tokens"
    first = [int(np.argmax(r != g)) for r, g in zip(ref, got)]
    return f"{int(equal.sum())}/{len(equal)} rows identical (first difference at {first})"


def print_table(rows):
    print("\n== best seconds per generate call (measured in alternation), tokens/s, and "
          "ratio = transformers / zoo (higher is better) ==")
    print(f"{'measure':15s} {'backend':11s} {'zoo':>9s} {'tok/s':>8s} {'transformers':>13s} "
          f"{'tok/s':>8s} {'ratio':>6s} {'compile':>8s}")
    for measure, name, ref_time, zoo_time, compile_time in rows:
        batch, new = measure_shape(measure)
        if isinstance(ref_time, float) and isinstance(zoo_time, float):
            print(f"{measure:15s} {name:11s} {zoo_time:8.3f}s {batch * new / zoo_time:8.1f} "
                  f"{ref_time:12.3f}s {batch * new / ref_time:8.1f} {ref_time / zoo_time:5.2f}x "
                  f"{compile_time:7.1f}s")
        else:
            print(f"{measure:15s} {name:11s} failed: {zoo_time}")
    times = {(measure, name): (ref, got) for measure, name, ref, got, _ in rows}
    for (measure, name), (_, got) in times.items():
        plain = times.get(("generate_b1", name), (None,))[0]
        if measure == "lookup_b1" and isinstance(got, float) and isinstance(plain, float):
            print(f"zoo {name} with prompt lookup against transformers without it (batch 1): "
                  f"{plain / got:.2f}x")


def main(argv=None):
    global NEW_TOKENS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_options(parser, "jax,torch,tensorflow", measures=MEASURES,
                       rounds_help="alternations between transformers and zoo per measure",
                       backends_help="comma-separated zoo backends (numpy works too)")
    parser.add_argument("--small", action="store_true", help="a tiny config for a quick check")
    parser.add_argument("--new-tokens", type=int, default=NEW_TOKENS,
                        help="new tokens per generate call (long runs show the cache's cost)")
    args = parser.parse_args(argv)
    if args.worker:
        return serve(make_worker(args.worker), args.dir)

    backends, measures = chosen(parser, args, measures=MEASURES)
    most = (SMALL if args.small else OPT_125M)["max_position_embeddings"] - PROMPT
    if not 1 <= args.new_tokens <= most:
        parser.error(f"--new-tokens must be in [1, {most}]")
    NEW_TOKENS = args.new_tokens
    os.environ["ZOO_BENCH_NEW_TOKENS"] = str(NEW_TOKENS)
    print(f"OPT {'small' if args.small else '125m'}, random weights, fp32, greedy; prompt "
          f"{PROMPT} tokens, {NEW_TOKENS} new tokens")
    print(cpu_line())
    rows = []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-generate-") as directory:
        results = run_measures(__file__, directory, backends, measures, args.rounds, 1,
                               args.small, REFERENCE)
        print(f"transformers: {next(results)[1]}")
        for name, measure, ref_time, zoo_time, infos, seconds in results:
            compile_time = float("nan")
            if isinstance(zoo_time, float) and len(infos) == 2:
                compile_time = max(0.0, infos[1]["first_call"] - zoo_time)
            rows.append((measure, name, ref_time, zoo_time, compile_time))
            line = (f"zoo {zoo_time:.3f} s, transformers {ref_time:.3f} s, "
                    f"{same_tokens(directory, name, measure)}"
                    if isinstance(zoo_time, float) else f"failed: {zoo_time}")
            if len(infos) == 2 and "packed" in infos[1]:
                line += f"; packed kernel by row bucket {infos[1]['packed']}"
            print(f"[{name}] {measure}: {line} ({seconds:.0f} s)", flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
