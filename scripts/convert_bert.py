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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TASKS = {"BertForMaskedLM": "masked_lm", "BertForPreTraining": "masked_lm",
         "BertForSequenceClassification": "classifier"}


def local_directory(source):
    """The local directory holding SRC's files (downloaded through the hub when remote)."""
    if os.path.isdir(source):
        return source
    from zoo.hub import download

    return download.resolve(source).path


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


def max_difference(a, b):
    import numpy as np

    from zoo import ops

    if isinstance(a, dict):
        return max(max_difference(a[k], b[k]) for k in a)
    return float(np.max(np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b))))


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

    import zoo

    directory = local_directory(args.source)
    task = choose_task(directory, args.task)
    model = load(directory, task, args.num_classes)
    model.save_to_preset(args.destination, source=f"converted from {args.source}")
    reloaded = zoo.Model.from_preset(args.destination)
    x = sample_inputs(model)
    difference = max_difference(model(x), reloaded(x))
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
