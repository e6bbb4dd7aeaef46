"""A stand-in for torchvision, put first on the path of reference scripts that import
ultralytics (which reads ``torchvision.__version__`` for a version check). Nothing else of
torchvision exists here: ultralytics' NMS falls back to its own torch implementation when
``torchvision.ops`` is missing, and reference scripts must not rely on it."""

__version__ = "0.0.0-stand-in"
