"""Fine-tune an OPT preset on plain text (LoRA or full) and save the result as a new preset.

    python scripts/finetune_opt.py --preset HANDLE --output DIR
        [--data train.txt] [--lora-rank 8] [--epochs 3] [--batch-size 8]
        [--sequence-length 128] [--learning-rate LR] [--seed 0]

HANDLE is anything ``OPTCausalLM.from_preset`` takes: a registry name (``opt_125m``), a zoo
preset directory, a transformers OPT checkpoint directory (converted while it loads) or
``hf://org/repo``. ``--data`` is a UTF-8 text file with one training example per line
(blank lines are skipped); without it a small built-in corpus is used.

``--lora-rank R`` (default 8) freezes the model and trains rank-R adapters on the
attention's query and value projections (``backbone.enable_lora``): the optimizer keeps
state for the adapters only. ``--lora-rank 0`` fine-tunes every weight. The saved preset is
always a plain OPTCausalLM (adapters merged into the kernels), loadable without LoRA.
Default learning rate: 1e-3 with LoRA, 5e-5 for a full fine-tune.

Prints the perplexity on the data before and after, and the loss of every epoch.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEFAULT_LORA_RANK = 8
LORA_LEARNING_RATE = 1e-3
FULL_LEARNING_RATE = 5e-5

DEFAULT_CORPUS = [
    "The river runs past the old mill and under the stone bridge.",
    "Every morning the baker opens the shop at six and sells bread until noon.",
    "A small boat drifts across the lake while the fisherman waits in silence.",
    "The library keeps its oldest maps in a cool room behind a locked door.",
    "Rain fell all night, and by morning the garden path was a stream.",
    "The train to the coast leaves twice a day, once at dawn and once at dusk.",
    "She planted tomatoes, beans and a row of sunflowers along the fence.",
    "The clock in the square has not kept the right time for many years.",
    "Snow covered the hills, and the village children took out their sleds.",
    "The market sells apples, cheese, honey and wool from the nearby farms.",
    "At the end of the street there is a blue door with a brass knocker.",
    "The lighthouse keeper climbs the stairs each evening to light the lamp.",
    "Wind moved through the tall grass like waves on a green sea.",
    "The old teacher told stories about the mountains and the people who lived there.",
    "A cat slept in the window, warm in the last light of the afternoon.",
    "The bridge was built of stone more than two hundred years ago.",
]


# -- data ----------------------------------------------------------------------------------

def read_lines(path):
    """Non-blank lines of a UTF-8 text file (one example each)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such data file.")
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\r\n") for line in f]
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte "
                         f"{error.start}).") from None
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise ValueError(f"{path}: no examples (the file has no non-blank line).")
    return texts


# -- model ---------------------------------------------------------------------------------

def build_model(preset, lora_rank, sequence_length, learning_rate):
    """``OPTCausalLM.from_preset`` with LoRA (rank > 0) and an AdamW optimizer."""
    import zoo
    from zoo.models import OPTCausalLM

    model = OPTCausalLM.from_preset(preset)
    if model.preprocessor is None:
        raise ValueError(f"--preset {preset}: the preset has no tokenizer / preprocessor, so "
                         f"it cannot read text.")
    limit = model.backbone.max_sequence_length
    if not 2 <= sequence_length <= limit:
        raise ValueError(f"--sequence-length {sequence_length}: the preset's model takes 2 to "
                         f"{limit} tokens.")
    if lora_rank < 0:
        raise ValueError(f"--lora-rank must be >= 0 (0: full fine-tune), got {lora_rank}.")
    model.preprocessor.sequence_length = sequence_length
    if lora_rank:
        model.backbone.enable_lora(lora_rank)
    if learning_rate is None:
        learning_rate = LORA_LEARNING_RATE if lora_rank else FULL_LEARNING_RATE
    model.compile(optimizer=zoo.optimizers.AdamW(learning_rate))
    return model


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def perplexity(model, texts, batch_size=8):
    """exp(mean next-token negative log-likelihood) over the real (unpadded) tokens."""
    from zoo import ops

    total, count = 0.0, 0.0
    for start in range(0, len(texts), batch_size):
        x, y, weight = model.preprocessor(texts[start:start + batch_size])
        logits = np.asarray(ops.convert_to_numpy(model.predict_on_batch(x)), np.float32)
        log_probs = np.take_along_axis(_log_softmax(logits), y[..., None].astype(np.int64),
                                       axis=-1)[..., 0]
        total -= float((log_probs.astype(np.float64) * weight).sum())
        count += float(weight.sum())
    return math.exp(total / max(count, 1.0))


def count_values(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


def finetune(model, texts, output, epochs=3, batch_size=8, verbose="auto", source=None):
    """Fit on ``texts``, save a merged preset at ``output`` -> dict with "perplexity_before",
    "perplexity_after", "losses" (one per epoch), "fit_seconds" and "out"."""
    trainable, total = count_values(model.trainable_variables), count_values(model.variables)
    print(f"training {trainable:,} of {total:,} values ({100.0 * trainable / total:.2f}%)")
    before = perplexity(model, texts, batch_size)
    print(f"perplexity before: {before:.3f}")
    start = time.perf_counter()
    history = model.fit(texts, batch_size=batch_size, epochs=epochs, shuffle=True,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    losses = [float(v) for v in history.history["loss"]]
    for epoch, loss in enumerate(losses, 1):
        print(f"epoch {epoch}: loss {loss:.4f}")
    after = perplexity(model, texts, batch_size)
    print(f"perplexity after: {after:.3f} (fit took {seconds:.1f} s)")
    out = model.save_to_preset(output, source=source)
    print(f"saved the fine-tuned preset (adapters merged) to {out}")
    return {"perplexity_before": before, "perplexity_after": after, "losses": losses,
            "fit_seconds": seconds, "out": out}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", required=True,
                        help="a registry name, a zoo preset or transformers checkpoint "
                             "directory, hf://org/repo")
    parser.add_argument("--output", required=True, help="directory of the new preset")
    parser.add_argument("--data", default=None,
                        help="a text file, one example per line (default: a small built-in "
                             "corpus)")
    parser.add_argument("--lora-rank", type=int, default=DEFAULT_LORA_RANK,
                        help=f"LoRA rank (default {DEFAULT_LORA_RANK}); 0 fine-tunes every "
                             f"weight")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=None,
                        help=f"default {LORA_LEARNING_RATE} with LoRA, {FULL_LEARNING_RATE} "
                             f"without")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be >= 1")

    try:
        texts = read_lines(args.data) if args.data else list(DEFAULT_CORPUS)
    except (OSError, ValueError) as error:
        raise SystemExit(f"finetune_opt.py: {error}") from None
    import zoo

    if zoo.config.backend() == "numpy":
        raise SystemExit("finetune_opt.py: the numpy backend runs inference only; set "
                         "ZOO_BACKEND=jax, torch or tensorflow.")
    mode = f"LoRA rank {args.lora_rank}" if args.lora_rank else "full fine-tune"
    print(f"[{zoo.config.backend()}] {args.preset}: {len(texts)} examples, {mode}")
    zoo.config.set_random_seed(args.seed)
    try:
        model = build_model(args.preset, args.lora_rank, args.sequence_length,
                            args.learning_rate)
    except (OSError, ValueError) as error:
        raise SystemExit(f"finetune_opt.py: {error}") from None
    return finetune(model, texts, args.output, epochs=args.epochs, batch_size=args.batch_size,
                    source=f"fine-tuned from {args.preset} by scripts/finetune_opt.py "
                           f"({mode})")


if __name__ == "__main__":
    main()
    sys.exit(0)
