"""The arithmetic behind README's "Scale on paper": OPT parameter counts and per-device
memory in bf16, for model-axis sizes 1, 4 and 8. Plain Python (no framework); prints the
table the README shows. Run: python docs/scale_arithmetic.py
"""
import pathlib

try:
    import tomllib
except ImportError:  # Python 3.10 (zoo depends on tomli there)
    import tomli as tomllib

VOCAB, POSITIONS, OFFSET = 50272, 2048, 2   # OPT's learned position table has 2048 + 2 rows
GIB = 2 ** 30
DEVICES_GB = (16, 24, 40, 80)               # device memory, taken as GiB
USABLE = 0.9                                # fraction XLA may use (XLA_PYTHON_CLIENT_MEM_FRACTION)
MODEL_AXES = (1, 4, 8)
OVERHEAD = 1 * GIB                          # compiled programs, workspaces, small temporaries
INFER_ROWS, INFER_LEN = 1, 2048             # inference: KV cache for 1 row x 2048 tokens
TRAIN_ROWS, TRAIN_LEN = 4, 512              # fine-tuning: micro-batch per model group

# name: (layers L, hidden H, heads a, word_embed_proj_dim E, pre-norm); F = 4 * H
OPT = {
    "125m": (12, 768, 12, 768, True),
    "350m": (24, 1024, 16, 512, False),
    "1.3b": (24, 2048, 32, 2048, True),
    "2.7b": (32, 2560, 32, 2560, True),
    "6.7b": (32, 4096, 32, 4096, True),
    "13b": (40, 5120, 40, 5120, True),
    "30b": (48, 7168, 56, 7168, True),
    "66b": (64, 9216, 72, 9216, True),
}


def parameters(name):
    """(split over the model axis, replicated) parameter counts of OPTBackbone.

    Split (Megatron layout): token table V*E (rows), q/k/v kernels + biases, attention
    output kernel, both MLP kernels, the first MLP bias. Replicated: positions, LayerNorms,
    biases of the row-parallel layers, the 350m projections."""
    L, H, _, E, pre_norm = OPT[name]
    F = 4 * H
    split = VOCAB * E + L * (4 * H * H + 3 * H + 2 * H * F + F)
    replicated = (POSITIONS + OFFSET) * H + L * (H + H + 2 * 2 * H)
    replicated += 2 * E * H if E != H else 0
    replicated += 2 * H if pre_norm else 0
    return split, replicated


def activations(L, H, a, m, rows, length):
    """Bytes kept for the backward pass per device: per layer s*b*H*(10 + 24/m) + 5*a*s^2*b/m
    (16-bit activations, 1-byte dropout masks, attention probabilities stored, no
    rematerialisation), plus fp32 logits and their gradient, split over the vocabulary."""
    s, b = length, rows
    per_layer = s * b * H * (10 + 24 / m) + 5 * a * s * s * b / m
    return L * per_layer + 8 * b * s * VOCAB / m


def need(name, m, mode):
    """Bytes per device for mode 'infer' (bf16 weights + KV cache), 'train16' (fp32 weights,
    fp32 grads, fp32 AdamW m and v: 16 B/param) or 'train8' (all bf16: 8 B/param)."""
    L, H, a = OPT[name][:3]
    split, rep = parameters(name)
    per_device_params = split / m + rep
    if mode == "infer":
        kv = 2 * L * INFER_ROWS * INFER_LEN * H * 2 / m
        return 2 * per_device_params + kv + OVERHEAD
    bytes_per_param = {"train16": 16, "train8": 8}[mode]
    act = activations(L, H, a, m, TRAIN_ROWS, TRAIN_LEN)
    return bytes_per_param * per_device_params + act + OVERHEAD


def cell(name, m, mode):
    H, a = OPT[name][1:3]
    if a % m or (4 * H) % m or VOCAB % m:
        return "n/a"                                  # JAX shards a dimension only evenly
    gib = need(name, m, mode) / GIB
    fits = [gb for gb in DEVICES_GB if gib <= USABLE * gb]
    text = f"{gib:.1f}" if gib < 100 else f"{gib:.0f}"
    return f"{text} ({fits[0]})" if fits else f"{text} ✗"


def check_registry():
    """The counts must equal zoo/presets/opt.toml's parameter_count for the registry sizes."""
    path = pathlib.Path(__file__).resolve().parents[1] / "zoo" / "presets" / "opt.toml"
    registry = tomllib.loads(path.read_text())
    for key, entry in registry.items():
        size = key.removeprefix("opt_").removesuffix("_en")
        total = sum(parameters(size))
        assert total == entry["parameter_count"], (key, total, entry["parameter_count"])
    return len(registry)


def main():
    print(f"checked {check_registry()} counts against zoo/presets/opt.toml\n")
    axes = "/".join(str(m) for m in MODEL_AXES)
    head = ["OPT", "params", "heads"]
    for label in ("infer", "train 16 B", "train 8 B"):
        head += [f"{label} m={m}" for m in MODEL_AXES]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in OPT:
        total = sum(parameters(name))
        row = [name, f"{total:,}", str(OPT[name][2])]
        for mode in ("infer", "train16", "train8"):
            row += [cell(name, m, mode) for m in MODEL_AXES]
        print("| " + " | ".join(row) + " |")
    print(f"\nGiB per device (model axis m = {axes}); (n) = smallest of "
          f"{'/'.join(map(str, DEVICES_GB))} GB that holds it at {USABLE:.0%}; ✗ = none.")

    split, rep = parameters("6.7b")
    print(f"\n6.7b: {rep / (split + rep):.2%} of the parameters are replicated over the model axis.")
    L, H = OPT["6.7b"][:2]
    tokens = TRAIN_ROWS * TRAIN_LEN
    model_axis = 4 * L * tokens * H * 2                 # 4 all-reduces per layer per step
    grads = 4 * sum(parameters("6.7b")) / 8             # fp32 gradient shard at m = 8
    print(f"6.7b, {tokens} tokens per model group, m=8, per device and step: model axis "
          f"{4 * L} all-reduces of {tokens * H * 2 / 2**20:.0f} MiB "
          f"({model_axis / GIB:.1f} GiB, blocking); batch axis one all-reduce of the "
          f"{grads / GIB:.1f} GiB fp32 gradient shard.")
    for name in ("6.7b", "66b"):
        L, H = OPT[name][:2]
        print(f"KV cache, {name}: {2 * L * H * 2 / 2**20:.2f} MiB per token per row (bf16), "
              f"{2 * L * INFER_LEN * H * 2 / GIB:.2f} GiB per 2048-token row, divided by m.")


if __name__ == "__main__":
    main()
