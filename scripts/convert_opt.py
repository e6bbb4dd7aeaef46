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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_common import local_directory, save_check_upload  # noqa: E402


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="transformers checkpoint directory or hub handle")
    parser.add_argument("destination", help="zoo preset directory to write")
    parser.add_argument("--task", default="auto", choices=["auto", "backbone", "causal_lm"])
    parser.add_argument("--upload", default=None, metavar="HANDLE",
                        help="upload the preset to hf://org/name afterwards")
    args = parser.parse_args(argv)

    from zoo.models import OPTBackbone, OPTCausalLM

    directory = local_directory(args.source)
    task = choose_task(directory, args.task)
    model = (OPTCausalLM if task == "causal_lm" else OPTBackbone).from_preset(directory)
    x = sample_inputs(model)
    return save_check_upload(model, x, args.destination, args.upload,
                             source=f"converted from {args.source}", mask=x["padding_mask"])

if __name__ == "__main__":
    sys.exit(main())
