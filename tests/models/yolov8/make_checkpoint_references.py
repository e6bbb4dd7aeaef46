"""Reference checkpoints for test_checkpoint.py / tests/hub/test_restricted_pickle.py, made
by ultralytics itself (``python make_checkpoint_references.py OUT_DIR``; tests/stand_ins is
on the path for the torchvision version lookup).

Writes, per checkpoint NAME:
    NAME.pt           the file ultralytics wrote
    NAME.npz          torch.load(weights_only=False)'s model state_dict, as stored
    NAME.json         {"names", "stride", "yaml", "model_class"}
and for "trainer" and "trainer_m" also NAME_io.npz: an input (1, 3, h, w) in [0, 1] and
the model's inference output (the float32 model of the checkpoint, eval mode, unfused):
y (1, 4+nc, A).

    trainer    a DetectionModel (yolov8n.yaml, nc=5), random weights, BN statistics and head
               biases, in the trainer's checkpoint layout (fp16 EMA, train_args, metrics as
               NumPy scalars, model.args an IterableSimpleNamespace) passed through
               ultralytics' strip_optimizer, as released checkpoints are
    trainer_m  the same at scale m (max_channels 768), nc=7, input 96 x 64
    saved_s    YOLO("yolov8s.yaml") (nc 80) saved by YOLO.save
    tensors    a dict of tensors of every storage type, strided views, a Parameter,
               torch.Size, a set, a NumPy scalar and array, a path and a device (tensors.npz: the tensors, bfloat16 as
               float32)
    cls, seg   ClassificationModel (yolov8n-cls.yaml), SegmentationModel (yolov8n-seg.yaml)
"""
import copy
import json
import os
import pathlib
import sys

import numpy as np
import torch

from ultralytics import YOLO
from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import ClassificationModel, DetectionModel, SegmentationModel
from ultralytics.utils.torch_utils import strip_optimizer

OUT = sys.argv[1]
torch.manual_seed(0)


def randomize(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".dfl." in name:  # DFL's fixed 0..15 projection stays (as in every checkpoint)
                continue
            p.copy_(torch.randn_like(p) * (0.5 if p.ndim == 1 else 0.15))
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn_like(module.running_mean) * 0.2)
                module.running_var.copy_(torch.rand_like(module.running_var) + 0.5)


def dump(name, path, extra=None):
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = ckpt.get("ema") or ckpt["model"]
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(os.path.join(OUT, name + ".npz"), **state)
    info = {"names": {str(k): v for k, v in model.names.items()},
            "stride": model.stride.tolist(), "yaml": model.yaml,
            "model_class": type(model).__name__, **(extra or {})}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(info, f)
    return model


def trainer_checkpoint(name, yaml, nc, shape=(64, 96)):
    """A random DetectionModel in the trainer's layout, through strip_optimizer; writes
    NAME.pt and NAME_io.npz (an input x (1, 3, *shape) and the checkpoint's float32
    inference output y); -> the path."""
    model = DetectionModel(yaml, nc=nc, verbose=False)
    randomize(model)
    model.names = {i: f"thing_{i}" for i in range(nc)}
    model.args = get_cfg()
    path = os.path.join(OUT, name + ".pt")
    torch.save({"epoch": 3, "best_fitness": np.float64(0.25), "model": None,
                "ema": copy.deepcopy(model).half(), "updates": 10, "optimizer": None,
                "train_args": dict(vars(get_cfg())),
                "train_metrics": {"metrics/mAP50(B)": np.float64(0.5)},
                "train_results": {"epoch": [1, 2, 3]}, "date": "2026-12-04", "version": "8.4"},
               path)
    strip_optimizer(path)
    net = dump(name, path).float().eval()
    x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = net(x)
    y = y[0] if isinstance(y, (list, tuple)) else y
    np.savez(os.path.join(OUT, name + "_io.npz"), x=x.numpy(), y=y.numpy())
    return path


# trainer layout -> strip_optimizer, at two scales with odd class counts
trainer_checkpoint("trainer", "yolov8n.yaml", 5)
trainer_checkpoint("trainer_m", "yolov8m.yaml", 7, shape=(96, 64))

# YOLO.save
yolo = YOLO("yolov8s.yaml")
yolo.save(os.path.join(OUT, "saved_s.pt"))
dump("saved_s", os.path.join(OUT, "saved_s.pt"))

# other tasks
for name, cls, yaml in (("cls", ClassificationModel, "yolov8n-cls.yaml"),
                        ("seg", SegmentationModel, "yolov8n-seg.yaml")):
    m = cls(yaml, nc=3, verbose=False)
    torch.save({"model": m.half(), "date": "2026-12-04"}, os.path.join(OUT, name + ".pt"))
# tensor layouts: views with offsets and strides, shared storages, every storage type
base = torch.arange(60, dtype=torch.float32).reshape(6, 10)
tensors = {"view": base[1:, ::3], "transposed": base.t(), "scalar": torch.tensor(2.5),
           "empty": torch.zeros(0, 3), "half": base.half()[2], "double": base.double()[:2],
           "long": torch.arange(5), "int": torch.arange(4, dtype=torch.int32),
           "short": torch.arange(3, dtype=torch.int16), "int8": torch.arange(-2, 2, dtype=torch.int8),
           "uint8": torch.arange(7, dtype=torch.uint8), "bool": torch.tensor([True, False]),
           "bfloat16": (base / 7).bfloat16()}
torch.save({"tensors": tensors, "param": torch.nn.Parameter(base[3]),
            "size": torch.Size([2, 3]), "set": {1, 2}, "np": np.float32(1.5),
            "np_array": np.arange(6, dtype=np.int16).reshape(2, 3),
            "path": pathlib.PurePosixPath("runs/detect/train"), "device": torch.device("cpu")},
           os.path.join(OUT, "tensors.pt"))
np.savez(os.path.join(OUT, "tensors.npz"),
         **{k: (v.float() if v.dtype == torch.bfloat16 else v).numpy() for k, v in tensors.items()})
print("done")
