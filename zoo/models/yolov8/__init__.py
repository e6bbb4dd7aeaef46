"""YOLOv8 (ultralytics' architecture, written from its description): backbone and detector."""
from zoo.models.yolov8.backbone import YOLOv8Backbone  # noqa: F401
from zoo.models.yolov8.detector import YOLOv8Detector  # noqa: F401
from zoo.models.yolov8.image_converter import YOLOv8ImageConverter  # noqa: F401
from zoo.models.yolov8.preprocessor import YOLOv8Preprocessor  # noqa: F401
from zoo.models.yolov8 import convert  # noqa: F401,E402
from zoo.models.yolov8 import ultralytics_checkpoint  # noqa: F401,E402  (registers the .pt loader)
