"""Tiny models that follow the Backbone / Task / Tokenizer / Preprocessor protocol, for the
preset tests (so they do not depend on any real architecture), and the script the
cross-backend / memory tests run in a subprocess.

    TinyBackbone(vocabulary_size, hidden_dim, num_layers, dropout)    token_ids -> dict
    TinyClassifier(backbone, preprocessor=None, num_classes=2)       token_ids -> logits
    TinyTokenizer(vocabulary, lowercase)                              vocab.txt asset
    TinyPreprocessor(tokenizer, sequence_length)                     strings -> token_ids
"""
import os
import sys
import zlib

import numpy as np

import zoo
from zoo import layers, ops
from zoo.backend.common import dtypes
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.models import Backbone, Preprocessor, Task, Tokenizer
from zoo.saving import deserialize, register_serializable, serialize

from tests.testing import to_numpy  # noqa: F401  (the hub tests call pm.to_numpy)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "the", "a", "cat", "dog", "sat", "on", "mat", "ran"]
TEXTS = ["The cat sat on the mat", "a dog ran", "the the unknown"]
TOKENS = np.array([[2, 3, 5, 7, 8, 9], [2, 4, 6, 10, 0, 0]], dtype="int32")


@register_serializable(package="zoo_tests")
class TinyBackbone(Backbone):
    def __init__(self, vocabulary_size=11, hidden_dim=8, num_layers=2, dropout=0.0,
                 name=None, dtype=None, trainable=True):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self.vocabulary_size, self.hidden_dim = vocabulary_size, hidden_dim
        self.num_layers, self.dropout = num_layers, dropout
        self.token_embedding = layers.Embedding(vocabulary_size, hidden_dim, name="embedding",
                                                dtype=dtype)
        self.blocks = [layers.Dense(hidden_dim, activation="gelu", name=f"block_{i}",
                                    dtype=dtype) for i in range(num_layers)]
        self.norm = layers.LayerNormalization(name="norm", dtype=dtype)
        self.build(SymbolicTensor((None, None), "int32"))

    def call(self, token_ids):
        x = self.token_embedding(token_ids)
        for block in self.blocks:
            x = x + block(x)
        x = self.norm(x)
        return {"sequence_output": x, "pooled_output": ops.mean(x, axis=1)}

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "vocabulary_size": self.vocabulary_size, "hidden_dim": self.hidden_dim,
                  "num_layers": self.num_layers, "dropout": self.dropout}
        if self.dtype_policy.name != "float32":
            config["dtype"] = self.dtype_policy.name
        return config


@register_serializable(package="zoo_tests")
class TinyTokenizer(Tokenizer):
    def __init__(self, vocabulary=None, lowercase=True):
        self.vocabulary = list(vocabulary) if vocabulary is not None else None
        self.lowercase = lowercase

    def get_config(self):
        return {"lowercase": self.lowercase}

    def save_assets(self, directory):
        with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(self.vocabulary) + "\n")

    def load_assets(self, directory):
        with open(os.path.join(directory, "vocab.txt"), encoding="utf-8") as f:
            self.vocabulary = f.read().splitlines()

    def tokenize(self, text):
        index = {t: i for i, t in enumerate(self.vocabulary)}
        words = (text.lower() if self.lowercase else text).split()
        return [index.get(w, index["[UNK]"]) for w in words]


@register_serializable(package="zoo_tests")
class TinyPreprocessor(Preprocessor):
    tokenizer_cls = TinyTokenizer

    def __init__(self, tokenizer, sequence_length=6):
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length

    def get_config(self):
        return {"sequence_length": self.sequence_length}

    def __call__(self, texts):
        out = np.zeros((len(texts), self.sequence_length), dtype="int32")
        for row, text in enumerate(texts):
            ids = [2] + self.tokenizer.tokenize(text)
            ids = ids[: self.sequence_length]
            out[row, : len(ids)] = ids
        return out


@register_serializable(package="zoo_tests")
class TinyClassifier(Task):
    backbone_cls = TinyBackbone
    preprocessor_cls = TinyPreprocessor

    def __init__(self, backbone, preprocessor=None, num_classes=2, name=None, dtype=None,
                 trainable=True):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = num_classes
        self.head = layers.Dense(num_classes, name="logits", dtype=dtype)
        self.build(SymbolicTensor((None, None), "int32"))

    def call(self, token_ids):
        return self.head(self.backbone(token_ids)["pooled_output"])

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "num_classes": self.num_classes, "backbone": serialize(self.backbone),
                "preprocessor": serialize(self.preprocessor) if self.preprocessor else None}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = deserialize(config["backbone"])
        config.pop("preprocessor", None)
        return cls(**config)


def fill(model, seed=0):
    """Give every float variable a value fixed by (seed, path)."""
    for path, variable in model.variable_paths().items():
        if dtypes.is_float(variable.dtype):
            rng = np.random.RandomState((zlib.crc32(path.encode()) + 7919 * seed) % 2**32)
            value = rng.uniform(-0.5, 0.5, variable.shape).astype("float32")
            variable.assign(value.astype(dtypes.to_numpy_dtype(variable.dtype)))
    return model


def values(model):
    return {path: np.array(v.numpy()) for path, v in model.variable_paths().items()}


def make_backbone(seed=1, **config):
    return fill(TinyBackbone(name="tiny_backbone", **config), seed)


def make_classifier(seed=1, num_classes=3):
    tokenizer = TinyTokenizer(VOCAB)
    preprocessor = TinyPreprocessor(tokenizer, sequence_length=6)
    backbone = TinyBackbone(name="tiny_backbone")
    return fill(TinyClassifier(backbone, preprocessor, num_classes=num_classes,
                               name="tiny_classifier"), seed)


# -- a transformers-style checkpoint of TinyBackbone and its converter ---------------------

HF_CONFIG = {"model_type": "zoo_tiny", "vocab_size": 11, "hidden_size": 8,
             "num_hidden_layers": 2}


def hf_state_dict(seed=0, num_classes=None, dtype="float32"):
    """Tensors named and laid out like a torch checkpoint (Linear weights are (out, in))."""
    rng = np.random.RandomState(seed)

    def r(*shape):
        return rng.uniform(-0.5, 0.5, shape).astype(dtype)

    tensors = {"tiny.embeddings.weight": r(11, 8), "tiny.norm.weight": r(8),
               "tiny.norm.bias": r(8)}
    for i in range(2):
        tensors[f"tiny.layers.{i}.weight"] = r(8, 8)
        tensors[f"tiny.layers.{i}.bias"] = r(8)
    if num_classes:
        tensors["classifier.weight"] = r(num_classes, 8)
        tensors["classifier.bias"] = r(num_classes)
    return tensors


def hf_backbone_config(hf_config):
    return {"vocabulary_size": hf_config["vocab_size"], "hidden_dim": hf_config["hidden_size"],
            "num_layers": hf_config["num_hidden_layers"], "name": "tiny_backbone"}


def hf_load_backbone(backbone, reader):
    backbone.token_embedding.embeddings.assign(reader["tiny.embeddings.weight"])
    for i, block in enumerate(backbone.blocks):
        block.kernel.assign(np.transpose(reader[f"tiny.layers.{i}.weight"]))
        block.bias.assign(reader[f"tiny.layers.{i}.bias"])
    backbone.norm.gamma.assign(reader["tiny.norm.weight"])
    backbone.norm.beta.assign(reader["tiny.norm.bias"])


def hf_load_classifier(task, reader):
    task.head.kernel.assign(np.transpose(reader["classifier.weight"]))
    task.head.bias.assign(reader["classifier.bias"])


def hf_tokenizer(directory, cls):
    path = os.path.join(directory, "vocab.txt")
    if not os.path.exists(path):
        return None
    tokenizer = TinyTokenizer()
    tokenizer.load_assets(directory)
    return tokenizer


def register_tiny_converter(backbone_cls=TinyBackbone):
    from zoo.hub.converters import register_converter

    return register_converter("zoo_tiny", backbone_cls, hf_backbone_config, hf_load_backbone,
                              task_loaders={TinyClassifier: hf_load_classifier},
                              tokenizer=hf_tokenizer)


def write_hf_checkpoint(directory, tensors, shards=1, vocab=True):
    """config.json + model.safetensors (or an index and ``shards`` files) + vocab.txt."""
    import json

    from safetensors.numpy import save_file

    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(HF_CONFIG, f)
    if vocab:
        TinyTokenizer(VOCAB).save_assets(directory)
    if shards == 1:
        save_file(tensors, os.path.join(directory, "model.safetensors"))
        return
    keys = sorted(tensors)
    weight_map = {}
    for i in range(shards):
        name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: tensors[k] for k in keys[i::shards]}
        save_file(part, os.path.join(directory, name))
        weight_map.update({k: name for k in part})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


def save_all(directory):
    """Save a backbone preset and a task preset (sharded) plus their outputs."""
    backbone = make_backbone(seed=3)
    task = make_classifier(seed=4)
    backbone.save_to_preset(os.path.join(directory, "backbone"), source="tests")
    task.save_to_preset(os.path.join(directory, "task"), max_shard_size=600)
    outputs = {"backbone_" + k: v for k, v in to_numpy(backbone(TOKENS)).items()}
    outputs["task_logits"] = to_numpy(task(task.preprocessor(TEXTS)))
    np.savez(os.path.join(directory, "outputs.npz"), **outputs)
    print(zoo.config.backend(), {k: v.shape for k, v in outputs.items()})


# -- peak memory of a load (run in a fresh process: python -m tests.hub.preset_models) ------

def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak():
    """Linux: writing 5 to clear_refs resets this process's peak RSS (VmHWM)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak():
    """Peak RSS since _reset_peak. ru_maxrss is the same counter, except that it also keeps
    the peak of the forked parent's pages from before exec: VmHWM does not."""
    import resource

    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_load(preset, warm_preset, mode):
    """Peak RSS above the steady state while loading ``preset`` (bytes). ``mode``: "preset"
    (from_preset) or "naive" (build with random init, then load_weights: for comparison)."""
    import gc
    import json

    zoo.Model.from_preset(warm_preset)(TOKENS)  # imports, backend and file-format warm-up
    gc.collect()
    before = _rss()
    _reset_peak()
    if mode == "preset":
        model = zoo.Model.from_preset(preset)
    else:
        with open(os.path.join(preset, "config.json")) as f:
            model = TinyBackbone(**json.load(f)["config"])
        model.load_weights(os.path.join(preset, "model.weights.h5"))
    peak = _peak()
    model(TOKENS)
    result = {"backend": zoo.config.backend(), "mode": mode, "before": before,
              "peak_extra": peak - before, "after_extra": _rss() - before,
              "model_bytes": sum(v.size * 4 for v in model.variables),
              "largest_bytes": max(v.size * 4 for v in model.variables)}
    print("RESULT " + json.dumps(result))
    return result


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        measure_load(*sys.argv[2:5])
    else:  # save DIRECTORY
        save_all(sys.argv[2])
