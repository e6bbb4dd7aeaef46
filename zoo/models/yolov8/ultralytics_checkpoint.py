"""ultralytics ``.pt`` checkpoints (``yolov8n.pt`` ... as ultralytics' trainer and
``YOLO.save`` write them) -> zoo YOLOv8Detector, read without running their pickles.

The file is a torch zip checkpoint of a dict (the trainer's layout, after
``strip_optimizer``):

    "model"       a whole ``ultralytics.nn.tasks.DetectionModel`` (usually float16), whose
                  ``__dict__`` holds ``yaml`` (the model's yaml dict: nc, scale, backbone,
                  head, ...), ``names`` ({class id: name}), ``stride`` (a tensor: 8, 16,
                  32), ``args`` and the ``torch.nn`` module tree (``_modules``)
    "ema"         the EMA copy of the model, or None (preferred when present, as
                  ultralytics does)
    "date", "version", "license", "docs", "train_args", "epoch", ...   plain data

``torch.load`` would import ultralytics and run whatever the pickle names. zoo reads it with
zoo/hub/restricted_pickle.py instead: only torch's tensor rebuild functions, storages, plain
data, and the class names in ``ALLOWED_GLOBALS`` (ultralytics' model/module classes and the
``torch.nn`` layers they use), which become inert placeholders recording their state; no
ultralytics import, no code from the file executed, any other global refused with its name.
So no ``allow_pickle`` opt-in is needed to load one: ``from_preset("yolov8n.pt")``,
``from_preset("hf://org/repo/yolov8n.pt")`` and ``zoo convert yolov8n.pt out/`` just work.

From the recorded model: the flat state_dict (torch's names, ``model.0.conv.weight`` ...),
``yaml``, ``names`` and ``stride``; ``UltralyticsLoader`` (a CheckpointLoader) builds the
backbone from the yaml's scale and the detector head with the class names, each variable
getting its memory from the file, and ``zoo.models.yolov8.convert.port_state_dict`` ports
the weights. A checkpoint of another ultralytics task
(classification, segmentation, pose, oriented boxes, YOLO-World, RT-DETR) or another
architecture (YOLO11's C3k2 layers, YOLOv10's head, the P2/P6 variants) is refused with an
error saying what it is.
"""
import dataclasses
import os
import zipfile

import numpy as np

from zoo.hub import restricted_pickle
from zoo.hub.loaders import register_loader
from zoo.hub.loaders.checkpoint import CheckpointLoader
from zoo.hub.preset_format import PresetError

SUFFIXES = (".pt", ".pth")

# -- the allow-list -------------------------------------------------------------------------

_TORCH_NN = {
    "torch.nn.modules.conv": ("Conv2d", "ConvTranspose2d"),
    "torch.nn.modules.batchnorm": ("BatchNorm2d",),
    "torch.nn.modules.activation": ("SiLU", "ReLU", "LeakyReLU", "Hardswish", "Sigmoid",
                                    "GELU", "MultiheadAttention"),
    "torch.nn.modules.linear": ("Identity", "Linear"),
    "torch.nn.modules.container": ("Sequential", "ModuleList", "ModuleDict"),
    "torch.nn.modules.upsampling": ("Upsample",),
    "torch.nn.modules.pooling": ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"),
    "torch.nn.modules.dropout": ("Dropout",),
    "torch.nn.modules.flatten": ("Flatten",),
}
# ultralytics' task models (named in messages when they are not detection models)
TASK_MODELS = {
    "DetectionModel": None,
    "ClassificationModel": "an image classification model (ultralytics ClassificationModel, "
                           "e.g. yolov8n-cls.pt)",
    "SegmentationModel": "an instance segmentation model (ultralytics SegmentationModel, "
                         "e.g. yolov8n-seg.pt)",
    "PoseModel": "a pose estimation model (ultralytics PoseModel, e.g. yolov8n-pose.pt)",
    "OBBModel": "an oriented bounding box model (ultralytics OBBModel, e.g. yolov8n-obb.pt)",
    "WorldModel": "an open-vocabulary YOLO-World model (ultralytics WorldModel)",
    "RTDETRDetectionModel": "an RT-DETR model (ultralytics RTDETRDetectionModel)",
    "YOLOEModel": "a YOLOE model (ultralytics YOLOEModel)",
    "YOLOESegModel": "a YOLOE segmentation model (ultralytics YOLOESegModel)",
}
_ULTRALYTICS_MODULES = {
    "block": ("C1", "C2", "C2f", "C3", "C3x", "C3TR", "C3Ghost", "C3k", "C3k2", "C2fAttn",
              "C2PSA", "C2fPSA", "PSABlock", "Attention", "Bottleneck", "BottleneckCSP",
              "SPP", "SPPF", "SPPELAN", "DFL", "Proto", "RepC3", "RepNCSPELAN4", "ELAN1",
              "ADown", "AConv", "CBLinear", "CBFuse", "SCDown", "RepVGGDW", "CIB", "C2fCIB",
              "PSA", "HGStem", "HGBlock", "ResNetLayer", "ImagePoolingAttn",
              "ContrastiveHead", "BNContrastiveHead", "A2C2f", "ABlock", "AAttn"),
    "conv": ("Conv", "Conv2", "ConvTranspose", "DWConv", "DWConvTranspose2d", "LightConv",
             "Focus", "GhostConv", "RepConv", "Concat", "ChannelAttention",
             "SpatialAttention", "CBAM", "Index"),
    "head": ("Detect", "Segment", "Pose", "OBB", "Classify", "WorldDetect", "v10Detect",
             "RTDETRDecoder", "YOLOEDetect", "YOLOESegment", "LRPCHead"),
}


def _allowed_globals():
    names = {f"{module}.{name}" for module, names in _TORCH_NN.items() for name in names}
    names |= {f"ultralytics.nn.tasks.{name}" for name in TASK_MODELS}
    for part, members in _ULTRALYTICS_MODULES.items():
        for member in members:
            names.add(f"ultralytics.nn.modules.{part}.{member}")
            names.add(f"ultralytics.nn.modules.{member}")  # 8.0.x: one modules.py
    names |= {"ultralytics.utils.IterableSimpleNamespace",
              "ultralytics.yolo.utils.IterableSimpleNamespace"}
    return frozenset(names)


ALLOWED_GLOBALS = _allowed_globals()

# The layer sequence of yolov8.yaml (the spec of the architecture zoo builds).
YOLOV8_LAYERS = ("Conv", "Conv", "C2f", "Conv", "C2f", "Conv", "C2f", "Conv", "C2f", "SPPF",
                 "nn.Upsample", "Concat", "C2f", "nn.Upsample", "Concat", "C2f", "Conv",
                 "Concat", "C2f", "Conv", "Concat", "C2f", "Detect")


# -- reading --------------------------------------------------------------------------------

@dataclasses.dataclass
class UltralyticsCheckpoint:
    """What zoo reads from an ultralytics detection checkpoint."""
    path: str
    state_dict: dict       # torch's names -> NumPy arrays (as stored: float16 usually)
    yaml: dict             # the model's yaml dict (nc, scale, backbone, head, ...)
    names: dict            # {class id: name}
    stride: np.ndarray     # (3,) float32: 8, 16, 32
    metadata: dict         # the checkpoint's plain-data entries (date, version, ...)


def looks_like_checkpoint(path):
    """A ``.pt``/``.pth`` file that is a zip archive whose pickle names ultralytics (checked
    without unpickling)."""
    if not (isinstance(path, str) and path.endswith(SUFFIXES) and os.path.isfile(path)):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("data.pkl")]
            return len(names) == 1 and b"ultralytics" in archive.read(names[0])
    except (OSError, zipfile.BadZipFile, EOFError, KeyError):
        return False


def _plain(value):
    return isinstance(value, (str, int, float, bool, type(None), np.generic))


def read_checkpoint(path):
    """An ultralytics detection checkpoint -> UltralyticsCheckpoint. Raises
    restricted_pickle.CheckpointError (a ValueError) naming the file when it is not one (and
    saying what it is), RefusedGlobalError for a global zoo does not allow."""
    path = os.fspath(path)
    content = restricted_pickle.load(path, ALLOWED_GLOBALS)
    if not isinstance(content, dict) or not any(k in content for k in ("model", "ema")):
        got = type(content).__name__
        raise restricted_pickle.CheckpointError(
            f"{path}: an ultralytics checkpoint is a dict with a 'model' (or 'ema'); this file "
            f"holds {got}" + (f" with keys {sorted(map(str, content))[:8]}"
                              if isinstance(content, dict) else "") + ".")
    model = content.get("ema") or content.get("model")
    if not isinstance(model, restricted_pickle.Recorded):
        raise restricted_pickle.CheckpointError(
            f"{path}: its 'model' is {type(model).__name__}, not an ultralytics model.")
    check_detection_model(model, path)
    state = model.state
    yaml = state.get("yaml")
    if not isinstance(yaml, dict):
        raise restricted_pickle.CheckpointError(f"{path}: the model records no yaml dict.")
    check_yolov8_layout(yaml, path)
    names = state.get("names")
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    if not isinstance(names, dict):
        names = {i: f"class{i}" for i in range(int(yaml.get("nc", 0)))}
    names = {int(k): str(v) for k, v in names.items()}
    stride = state.get("stride")
    stride = np.asarray(stride if stride is not None else (8, 16, 32), np.float32)
    state_dict = restricted_pickle.module_state_dict(model)
    if not state_dict:
        raise restricted_pickle.CheckpointError(f"{path}: the model holds no weights.")
    check_dfl(state_dict, path)
    metadata = {k: v for k, v in content.items() if _plain(v)}
    return UltralyticsCheckpoint(path, dict(state_dict), yaml, names, stride, metadata)


def _head(model):
    layers = model.state.get("_modules", {}).get("model")
    children = list((layers.state.get("_modules") or {}).values()) \
        if isinstance(layers, restricted_pickle.Recorded) else []
    return children[-1] if children else None


def check_detection_model(model, path):
    """Refuse a model that is not an ultralytics detection model, saying what it is."""
    kind = model.class_name
    if kind not in TASK_MODELS or not model.qualified_name.startswith("ultralytics."):
        raise restricted_pickle.CheckpointError(
            f"{path}: its model is {model.qualified_name}, not an ultralytics "
            f"DetectionModel.")
    if TASK_MODELS[kind] is not None:
        raise restricted_pickle.CheckpointError(
            f"{path} is {TASK_MODELS[kind]}, not a detection model; zoo reads YOLOv8 "
            f"detection checkpoints (DetectionModel with a Detect head) only.")
    head = _head(model)
    if head is None or head.class_name != "Detect":
        what = "none" if head is None else head.qualified_name
        raise restricted_pickle.CheckpointError(
            f"{path}: a DetectionModel whose head is {what}, not YOLOv8's Detect"
            f"{' (YOLOv10)' if what.endswith('v10Detect') else ''}.")


def check_yolov8_layout(yaml, path):
    """Refuse a DetectionModel that is not yolov8.yaml's architecture (YOLO11, v5, P2/P6)."""
    layers = list(yaml.get("backbone") or []) + list(yaml.get("head") or [])
    try:
        kinds = tuple(str(layer[2]) for layer in layers)
    except (TypeError, IndexError, KeyError):
        raise restricted_pickle.CheckpointError(
            f"{path}: the model's yaml has no readable backbone/head layer list.") from None
    if kinds != YOLOV8_LAYERS:
        others = sorted(set(kinds) - set(YOLOV8_LAYERS))
        hint = (f"its layers include {', '.join(others)}" if others else
                f"its {len(kinds)} layers are not yolov8.yaml's {len(YOLOV8_LAYERS)} "
                f"(a P2/P6 variant?)")
        family = " (YOLO11)" if "C3k2" in others else ""
        raise restricted_pickle.CheckpointError(
            f"{path}: a detection model{family} that is not YOLOv8: {hint}. zoo's YOLOv8 is "
            f"yolov8.yaml's layout (scale {yaml.get('scale')!r}).")
    channels = yaml.get("channels", yaml.get("ch", 3))
    if int(channels) != 3:
        raise restricted_pickle.CheckpointError(
            f"{path}: the model takes {channels} input channels; zoo's YOLOv8 takes RGB (3).")


def check_dfl(state_dict, path):
    """DFL's 1x1 conv is a fixed projection onto the bins 0..reg_max-1, which zoo computes
    rather than stores: refuse a checkpoint whose weights differ."""
    names = [k for k in state_dict if k.endswith(".dfl.conv.weight")]
    for name in names:
        weight = np.asarray(state_dict[name], np.float32).reshape(-1)
        if not np.array_equal(weight, np.arange(weight.size, dtype=np.float32)):
            raise restricted_pickle.CheckpointError(
                f"{path}: {name} is not DFL's fixed projection 0..{weight.size - 1}; zoo's "
                f"YOLOv8 head computes it and cannot use other values.")


# -- the loader -----------------------------------------------------------------------------

FIXED_BY_CHECKPOINT = frozenset({"num_classes", "class_names", "reg_max"})


@register_loader
class UltralyticsLoader(CheckpointLoader):
    """Reads an ultralytics detection ``.pt`` (see the module docstring) as a YOLOv8Backbone
    (the checkpoint's modules 0-9) and a YOLOv8Detector head (the neck and ``Detect``);
    ``zoo.Model.from_preset`` gives the detector, with the checkpoint's class names."""

    kind = "ultralytics checkpoint"
    description = "an ultralytics YOLOv8 detection checkpoint"

    def __init__(self, path, handle, allow_pickle=False):
        super().__init__(path, handle, allow_pickle)
        self._checkpoint = None

    @classmethod
    def claims(cls, path):
        return looks_like_checkpoint(path)

    @classmethod
    def remote_files(cls, listing, allow_pickle=False):
        return None  # a repository of .pt files is addressed file by file: hf://org/repo/x.pt

    def checkpoint(self):
        if self._checkpoint is None:
            try:
                self._checkpoint = read_checkpoint(self.path)
            except restricted_pickle.CheckpointError as error:
                raise PresetError(f"{self.label}: {error}") from error
        return self._checkpoint

    def plan_model(self, cls, overrides):
        checkpoint = self.checkpoint()  # refuse what is not YOLOv8 before building anything
        fixed = sorted(set(overrides) & FIXED_BY_CHECKPOINT)
        if fixed:
            raise PresetError(f"{self.label}: {', '.join(fixed)} is set by the checkpoint "
                              f"and cannot be overridden.")
        plan = super().plan_model(cls, overrides)
        if plan.task_cls is not None:
            nc = int(checkpoint.yaml["nc"])
            plan.head_config = {"num_classes": nc, "class_names": [
                str(checkpoint.names.get(i, f"class{i}")) for i in range(nc)]}
        return plan

    def backbone_class(self):
        from zoo.models.yolov8.backbone import YOLOv8Backbone

        return YOLOv8Backbone

    def backbone_config(self):
        from zoo.models.yolov8 import convert

        return convert.backbone_config(self.checkpoint().yaml)

    def saved_task(self):
        from zoo.models.yolov8.detector import YOLOv8Detector

        return YOLOv8Detector, {}

    def read_weights(self):
        return self.checkpoint().state_dict

    def port_backbone_weights(self, backbone, state_dict):
        self._port(backbone, state_dict, strict=False)

    def head_porter(self, task_cls):
        from zoo.models.yolov8.detector import YOLOv8Detector

        if not issubclass(task_cls, YOLOv8Detector):
            return None

        def port_head(detector, state_dict):
            backbone_layers = {layer.name for layer in
                               detector.backbone._flatten_layers(include_self=False)}
            self._port(detector, state_dict, skip_layers=backbone_layers)
        return port_head

    def _port(self, model, state_dict, **options):
        from zoo.models.yolov8 import convert

        try:
            convert.port_state_dict(model, state_dict, **options)
        except (KeyError, ValueError) as error:
            raise PresetError(f"{self.path}: cannot convert the checkpoint "
                              f"({type(error).__name__}: {error}).") from error

    def make_component(self, kind, cls):
        """ultralytics' predictor preprocessing (letterbox to 640): the checkpoint has no
        other."""
        from zoo.models.yolov8.image_converter import YOLOv8ImageConverter

        return YOLOv8ImageConverter() if issubclass(YOLOv8ImageConverter, cls) else None
