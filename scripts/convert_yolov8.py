"""Convert an ultralytics YOLOv8 detection checkpoint (``.pt``) into a zoo preset.

    python scripts/convert_yolov8.py SRC DST [--upload hf://org/name]

SRC is a local ``.pt`` file or ``hf://org/repo/file.pt`` (e.g.
``hf://Ultralytics/YOLOv8/yolov8n.pt``); DST the preset directory to write. The checkpoint is
read by zoo's restricted unpickler (zoo/models/yolov8/ultralytics_checkpoint.py: nothing in
the file is executed, no torch or ultralytics import), converted to a YOLOv8Detector with the
checkpoint's class names, saved, reloaded, and the reloaded preset's outputs on a random
640x640 batch compared with the converted model's before it is (optionally) uploaded.
Note ultralytics' weights are AGPL-3.0: a preset made from them carries that license.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_common import save_check_upload  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="ultralytics .pt file or hf://org/repo/file.pt")
    parser.add_argument("destination", help="zoo preset directory to write")
    parser.add_argument("--upload", default=None, metavar="HANDLE",
                        help="upload the preset to hf://org/name afterwards")
    parser.add_argument("--size", type=int, default=640,
                        help="image side of the check batch (a multiple of 32)")
    args = parser.parse_args(argv)

    import numpy as np

    from zoo.models.yolov8 import ultralytics_checkpoint  # noqa: F401  (the loader)
    from zoo.models.yolov8.detector import YOLOv8Detector

    model = YOLOv8Detector.from_preset(args.source)
    images = np.random.default_rng(0).random((1, args.size, args.size, 3)).astype("float32")
    names = getattr(model, "class_names", None) or []
    return save_check_upload(model, images, args.destination, args.upload,
                             source=f"converted from {args.source} (ultralytics)",
                             details=f", {len(names)} classes")

if __name__ == "__main__":
    sys.exit(main())
