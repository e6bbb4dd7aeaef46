"""ultralytics' predictor on its own sample images, for test_end_to_end.py
(``python make_predictor_references.py OUT_DIR``; tests/stand_ins on the path gives
ultralytics the torchvision version it looks up).

Writes OUT_DIR/predictor.pt: a DetectionModel (yolov8n.yaml, nc=5, class names "thing_i")
with random weights, BatchNorm statistics and head biases, its class biases shifted so that
ultralytics' predictor keeps a few dozen boxes per image at conf 0.25 (a random model scores
every anchor alike otherwise: none, or max_det); and OUT_DIR/predictions.json:
{"assets": {name: path}, "single": {name: rows}, "batch": {name: rows}} where rows are
[x1, y1, x2, y2, conf, class] in original pixels from ``YOLO(predictor.pt).predict`` on
each image alone (letterboxed to the minimum rectangle) and on the two together (mixed
sizes: each padded to 640 x 640), conf 0.25, iou 0.7, imgsz 640.
"""
import json
import os
import sys

import numpy as np
import torch

import ultralytics
from ultralytics import YOLO
from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils import nms

OUT = sys.argv[1]
ASSETS = {name: os.path.join(os.path.dirname(ultralytics.__file__), "assets", name + ".jpg")
          for name in ("bus", "zidane")}
TARGET = (15, 80)  # boxes the predictor keeps on bus.jpg


def randomize(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".dfl." not in name:
                p.copy_(torch.randn_like(p) * (0.5 if p.ndim == 1 else 0.15))
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn_like(module.running_mean) * 0.2)
                module.running_var.copy_(torch.rand_like(module.running_var) + 0.5)


def head_convs(model, branch):
    """The last 1x1 conv of each level's box ("cv2") or class ("cv3") branch."""
    return [level[-1] for level in getattr(model.model[-1], branch)]


def temper_head(model, image, spread=2.0):
    """Scale the weights of each branch's last conv so that its outputs on ``image`` (a
    float tensor (1, 3, H, W)) vary by ``spread`` (std) around their bias: random weights
    give logits in the hundreds, saturated sigmoids (every score 1.0, ties in the NMS order)
    and one-hot DFL distributions."""
    outputs = {}
    hooks = [conv.register_forward_hook(lambda m, i, o: outputs.__setitem__(m, o - m.bias[:, None, None]))
             for branch in ("cv2", "cv3") for conv in head_convs(model, branch)]
    with torch.no_grad():
        model.eval()(image)
        for hook in hooks:
            hook.remove()
        for branch in ("cv2", "cv3"):
            convs = head_convs(model, branch)
            std = torch.cat([outputs[c].flatten() for c in convs]).std()
            for conv in convs:
                conv.weight.mul_(spread / std)
def save(model, path):
    torch.save({"model": model.half(), "train_args": dict(vars(get_cfg())),
                "date": "2026-12-07", "version": "8.4"}, path)
    model.float()


def _own_nms(original):
    """ultralytics' NMS uses torchvision.ops.nms once torchvision is imported (its predictor
    imports it); the stand-in has no ops, so the NMS runs with torchvision out of
    sys.modules: ultralytics' own torch NMS, which it keeps equal to torchvision's."""
    def run(*args, **kwargs):
        sys.modules.pop("torchvision", None)
        return original(*args, **kwargs)
    return run


nms.non_max_suppression = _own_nms(nms.non_max_suppression)


def predict(path, sources):
    yolo = YOLO(path)
    results = yolo.predict(sources, conf=0.25, iou=0.7, imgsz=640, device="cpu", verbose=False)
    return [torch.cat([r.boxes.xyxy, r.boxes.conf[:, None], r.boxes.cls[:, None]], 1)
            .numpy().astype(np.float64).tolist() for r in results]


def main():
    model = DetectionModel("yolov8n.yaml", nc=5, verbose=False)
    randomize(model, seed=3)
    model.names = {i: f"thing_{i}" for i in range(5)}
    model.args = get_cfg()
    path = os.path.join(OUT, "predictor.pt")
    image = torch.rand(1, 3, 480, 640, generator=torch.Generator().manual_seed(0))
    temper_head(model, image)
    original = [conv.bias.detach().clone() for conv in head_convs(model, "cv3")]
    low, high = -20.0, 20.0  # bisect the shift: more shift, more boxes
    for _ in range(30):
        shift = (low + high) / 2
        with torch.no_grad():
            for conv, start in zip(head_convs(model, "cv3"), original):
                conv.bias.copy_(start + shift)
        save(model, path)
        count = len(predict(path, [ASSETS["bus"]])[0])
        if TARGET[0] <= count <= TARGET[1]:
            break
        low, high = (shift, high) if count < TARGET[0] else (low, shift)
    else:
        raise SystemExit(f"no class-bias shift gives {TARGET} boxes (last: {count})")
    single = {name: predict(path, [source])[0] for name, source in ASSETS.items()}
    batch = dict(zip(ASSETS, predict(path, list(ASSETS.values()))))
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump({"assets": ASSETS, "single": single, "batch": batch, "shift": shift}, f)
    print({name: len(rows) for name, rows in single.items()})


main()
