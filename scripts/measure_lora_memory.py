"""Peak memory (VmHWM) of LoRA fine-tuning steps on a random OPT, on the active backend.

    ZOO_BACKEND=torch python scripts/measure_lora_memory.py [--size 1.3b] [--rank 8]
                                                            [--batch 2] [--length 128]

Builds OPTCausalLM with the chosen size's config (random weights, fp32), enables LoRA
(query/value adapters), runs two ``train_on_batch`` steps with AdamW and prints the
parameter counts, the step times and the process's peak resident memory before and after.
``--rank 0`` measures a full fine-tune instead. Measured on 2 cores: 1.3b, rank 8, batch
2 x 128: peak 6.4 GiB on torch (5.8 s per step), 6.6 GiB on jax (9.5 s per step); the
weights alone are 4.9 GiB, so a 1.3b model fine-tunes well inside 24 GiB.
"""
import argparse
import sys
import time

import numpy as np

SIZES = {  # transformers' OPT configs
    "125m": dict(num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072),
    "350m": dict(num_layers=24, num_heads=16, hidden_dim=1024, intermediate_dim=4096,
                 word_embed_proj_dim=512, do_layer_norm_before=False),
    "1.3b": dict(num_layers=24, num_heads=32, hidden_dim=2048, intermediate_dim=8192),
    "2.7b": dict(num_layers=32, num_heads=32, hidden_dim=2560, intermediate_dim=10240),
}


def peak_memory_gib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="1.3b")
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank (0: full fine-tune)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--length", type=int, default=128)
    args = parser.parse_args(argv)

    import zoo
    from zoo.models import OPTBackbone, OPTCausalLM

    start = time.perf_counter()
    backbone = OPTBackbone(vocabulary_size=50272, max_sequence_length=2048, dropout=0.0,
                           **SIZES[args.size])
    model = OPTCausalLM(backbone)
    count = sum(int(np.prod(v.shape)) for v in model.weights)
    print(f"OPT-{args.size}: {count:,} parameters, built in {time.perf_counter() - start:.0f} s;"
          f" peak {peak_memory_gib():.2f} GiB")
    if args.rank:
        backbone.enable_lora(args.rank)
    model.compile(optimizer=zoo.optimizers.AdamW(1e-4),
                  loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    print(f"trainable: {trainable:,} ({'LoRA rank ' + str(args.rank) if args.rank else 'full'})")
    rng = np.random.default_rng(0)
    shape = (args.batch, args.length)
    x = {"token_ids": rng.integers(3, 50272, shape).astype("int32"),
         "padding_mask": np.ones(shape, "int32")}
    y = rng.integers(3, 50272, shape).astype("int32")
    for step in range(2):
        start = time.perf_counter()
        loss = model.train_on_batch(x, y, return_dict=True)["loss"]
        print(f"step {step}: {time.perf_counter() - start:.1f} s, loss {float(loss):.4f}")
    print(f"peak resident memory: {peak_memory_gib():.2f} GiB ({zoo.config.backend()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
