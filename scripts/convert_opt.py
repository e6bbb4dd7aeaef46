"""Convert a Hugging Face transformers OPT checkpoint into a zoo preset.

    python scripts/convert_opt.py SRC DST [--task auto|backbone|causal_lm] [--upload hf://org/name]

SRC is a local checkpoint directory (config.json + model.safetensors, vocab.json +
merges.txt) or a hub handle (``hf://facebook/opt-125m``); DST the preset directory to write.
With ``--task auto`` an OPTForCausalLM checkpoint becomes an OPTCausalLM (with its
tokenizer and preprocessor) and anything else an OPTBackbone. The preset is reloaded and its
outputs compared with the converted model's before it is (optionally) uploaded.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def local_directory(source):
    if os.path.isdir(source):
        return source
    from zoo.hub import download

    return download.resolve(source).path


def choose_task(directory, task):
    if task != "auto":
        return task
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
        architectures = json.load(f).get("architectures") or []
    return "causal_lm" if "OPTForCausalLM" in architectures else "backbone"


def sample_inputs(model):
    import numpy as np

    backbone = getattr(model, "backbone", model)
    length = min(16, backbone.max_sequence_length)
    rng = np.random.default_rng(0)
    mask = np.ones((2, length), "int32")
    mask[1, :3] = 0  # a left-padded row
    return {"token_ids": rng.integers(0, backbone.vocabulary_size, (2, length)).astype("int32"),
            "padding_mask": mask}


def max_difference(a, b, mask):
    import numpy as np

    from zoo import ops

    if isinstance(a, dict):
        return max(max_difference(a[k], b[k], mask) for k in a)
    diff = np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b))
    return float(diff[mask.astype(bool)].max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="transformers checkpoint directory or hub handle")
    parser.add_argument("destination", help="zoo preset directory to write")
    parser.add_argument("--task", default="auto", choices=["auto", "backbone", "causal_lm"])
    parser.add_argument("--upload", default=None, metavar="HANDLE",
                        help="upload the preset to hf://org/name afterwards")
    args = parser.parse_args(argv)

    import zoo
    from zoo.models import OPTBackbone, OPTCausalLM

    directory = local_directory(args.source)
    task = choose_task(directory, args.task)
    model = (OPTCausalLM if task == "causal_lm" else OPTBackbone).from_preset(directory)
    model.save_to_preset(args.destination, source=f"converted from {args.source}")
    reloaded = zoo.Model.from_preset(args.destination)
    x = sample_inputs(model)
    difference = max_difference(model(x), reloaded(x), x["padding_mask"])
    print(f"{type(model).__name__} ({model.count_params():,} parameters) -> "
          f"{args.destination}; reloaded max |difference| = {difference:.2e}")
    if difference > 1e-5:
        print("error: the reloaded preset does not reproduce the converted model",
              file=sys.stderr)
        return 1
    if args.upload:
        from zoo.hub import upload_preset

        info = upload_preset(args.upload, args.destination)
        print(f"uploaded to {args.upload} at commit {getattr(info, 'commit', '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
