"""ultralytics YOLOv8 tensors -> zoo's YOLOv8Detector.

zoo's layer names follow ultralytics' module paths with dots as underscores
(``model.2.m.0.cv1.conv.weight`` -> ``model_2_m_0_cv1_conv/kernel``):

    conv weight (out, in, kh, kw)         -> kernel (kh, kw, in, out)
    conv bias (the head's last 1x1 convs) -> bias
    BatchNorm weight, bias, running_mean, running_var
                                          -> gamma, beta, moving_mean, moving_variance
    model.22.dfl.conv.weight              -> nothing: DFL's projection is the fixed 0..15
    num_batches_tracked                   -> nothing

``state_dict`` is what ``zoo.models.yolov8.ultralytics_checkpoint.read_checkpoint`` returns
(NumPy arrays, any float dtype), or any mapping of ultralytics' names to arrays.
"""
import numpy as np

from zoo.hub.porting import Porter, Transform
from zoo.models.yolov8.backbone import SCALES, YOLOv8Backbone
from zoo.models.yolov8.detector import YOLOv8Detector
from zoo.models.yolov8.preprocessor import YOLOv8Preprocessor

_BATCH_NORM = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean",
               "running_var": "moving_variance"}
_SKIPPED = ("num_batches_tracked",)

conv_kernel = Transform(
    "conv_kernel", lambda a, shape: np.ascontiguousarray(np.transpose(a, (2, 3, 1, 0))),
    lambda s, shape: (s[2], s[3], s[1], s[0]) if len(s) == 4 else None)


def backbone_config(yaml):
    """The YOLOv8Backbone kwargs of an ultralytics model yaml dict (its ``scale`` and
    ``scales`` table, or ``depth_multiple`` / ``width_multiple``)."""
    scale = yaml.get("scale")
    scales = yaml.get("scales") or {}
    if scale and scale in scales:
        depth, width, max_channels = scales[scale]
    elif scale and scale in SCALES:
        depth, width, max_channels = SCALES[scale]
    elif "depth_multiple" in yaml and "width_multiple" in yaml:
        depth, width = yaml["depth_multiple"], yaml["width_multiple"]
        max_channels = yaml.get("max_channels", 1024)
    else:
        raise ValueError(f"the model yaml names no YOLOv8 scale (scale={scale!r}, "
                         f"scales={sorted(scales)}) and no depth/width multiples")
    return {"depth_multiple": float(depth), "width_multiple": float(width),
            "max_channels": int(max_channels)}


def _variable_of(key):
    """ultralytics tensor name -> (zoo layer name, variable name, transform), or None."""
    module, _, leaf = key.rpartition(".")
    if leaf in _SKIPPED or module.startswith("model.22.dfl"):
        return None
    layer = module.replace(".", "_")
    if module.endswith(".bn"):
        return layer, _BATCH_NORM[leaf], None
    if leaf == "weight":
        return layer, "kernel", conv_kernel
    return layer, leaf, None  # a conv bias


def port_state_dict(model, state_dict, skip_layers=(), strict=True):
    """Assign the variables of ``model`` (a YOLOv8Detector, or its backbone) from
    ``state_dict``, all checked first (a missing tensor or a shape mismatch is an error
    naming it, and nothing is assigned). Layers named in ``skip_layers`` (already assigned)
    are left as they are. With ``strict``, a tensor no layer of ``model`` takes is an error;
    without it, it is left (a backbone takes the checkpoint's first ten modules)."""
    paths = model.variable_paths()
    by_layer = {}
    for path in paths:
        layer, _, name = path.rpartition("/")
        by_layer[(layer.rpartition("/")[2], name)] = path
    porter = Porter(state_dict, "ultralytics YOLOv8 checkpoint", variables=paths)
    unused = []
    for key in state_dict.keys():
        target = _variable_of(key)
        if target is None or target[0] in skip_layers:
            continue
        path = by_layer.get(target[:2])
        if path is None:
            unused.append(key)
            continue
        porter.port(path, key, target[2])
    if unused and strict:
        raise ValueError(f"the checkpoint has tensors {type(model).__name__} has no variable "
                         f"for: {unused[:8]}" + (" ..." if len(unused) > 8 else ""))
    porter.apply()
    return model


def detector_from_state_dict(state_dict, yaml, names, dtype=None):
    """A YOLOv8Detector built from the yaml dict (scale, ``nc``) with ``names`` (a list, or
    a dict {id: name}), the weights of ``state_dict`` and ultralytics' predictor
    preprocessing (letterbox to 640)."""
    num_classes = int(yaml["nc"])
    if isinstance(names, dict):
        names = [str(names.get(i, f"class{i}")) for i in range(num_classes)]
    backbone = YOLOv8Backbone(**backbone_config(yaml), dtype=dtype)
    detector = YOLOv8Detector(backbone, num_classes=num_classes,
                              class_names=list(names) if names is not None else None,
                              preprocessor=YOLOv8Preprocessor.default(), dtype=dtype)
    return port_state_dict(detector, state_dict)
