"""Convert a Hugging Face transformers BERT checkpoint into a zoo preset.

    python scripts/convert_bert.py SRC DST [--task auto|backbone|masked_lm|classifier]
        [--num-classes N] [--upload hf://org/name]

SRC is a local checkpoint directory (config.json + model.safetensors, vocab.txt) or a hub
handle (``hf://google-bert/bert-base-uncased``); DST the preset directory to write. With
``--task auto`` the class follows the checkpoint's ``architectures``: BertForMaskedLM /
BertForPreTraining -> BertMaskedLM, BertForSequenceClassification -> BertTextClassifier,
anything else -> BertBackbone. The preset is reloaded and checked against the converted
model before it is (optionally) uploaded.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_common import local_directory, save_check_upload  # noqa: E402

TASKS = {"BertForMaskedLM": "masked_lm", "BertForPreTraining": "masked_lm",
         "BertForSequenceClassification": "classifier"}


def choose_task(directory, task):
    if task != "auto":
        return task
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    for architecture in config.get("architectures") or []:
        if architecture in TASKS:
            return TASKS[architecture]
    return "backbone"


def load(directory, task, num_classes):
    from zoo.models import BertBackbone, BertMaskedLM, BertTextClassifier

    if task == "masked_lm":
        return BertMaskedLM.from_preset(directory)
    if task == "classifier":
        overrides = {} if num_classes is None else {"num_classes": num_classes}
        if "num_classes" not in overrides:
            with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
                labels = json.load(f).get("id2label") or {}
            overrides["num_classes"] = max(len(labels), 2)
        return BertTextClassifier.from_preset(directory, **overrides)
    return BertBackbone.from_preset(directory)


def sample_inputs(model):
    import numpy as np

    backbone = getattr(model, "backbone", model)
    length = min(16, backbone.max_sequence_length)
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(0, backbone.vocabulary_size, (2, length)).astype("int32"),
         "segment_ids": np.zeros((2, length), "int32"),
         "padding_mask": np.ones((2, length), "int32")}
    if "mask_positions" in getattr(model, "_inputs_struct", {}):
        x["mask_positions"] = np.array([[1, 2], [3, 4]], "int32")
    return x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="transformers checkpoint directory or hub handle")
    parser.add_argument("destination", help="zoo preset directory to write")
    parser.add_argument("--task", default="auto",
                        choices=["auto", "backbone", "masked_lm", "classifier"])
    parser.add_argument("--num-classes", type=int, default=None)
    parser.add_argument("--upload", default=None, metavar="HANDLE",
                        help="upload the preset to hf://org/name afterwards")
    args = parser.parse_args(argv)

    directory = local_directory(args.source)
    task = choose_task(directory, args.task)
    model = load(directory, task, args.num_classes)
    return save_check_upload(model, sample_inputs(model), args.destination, args.upload,
                             source=f"converted from {args.source}")

if __name__ == "__main__":
    sys.exit(main())
