"""What every conversion script does once it has a model: save the preset, reload it, check
the reload reproduces the model, and optionally upload it.

    from convert_common import local_directory, save_check_upload
    return save_check_upload(model, inputs, args.destination, args.upload,
                             source=f"converted from {args.source}")
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def local_directory(source):
    """The local directory holding SRC's files (downloaded through the hub when remote)."""
    if os.path.isdir(source):
        return source
    from zoo.hub import download

    return download.resolve(source).path


def max_difference(a, b, mask=None):
    """The largest |a - b| over (nested dicts of) outputs; ``mask`` (B, T) keeps only the
    positions it marks (left-padded rows)."""
    import numpy as np

    from zoo import ops

    if isinstance(a, dict):
        return max(max_difference(a[k], b[k], mask) for k in a)
    difference = np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b))
    return float((difference if mask is None else difference[mask.astype(bool)]).max())


def save_check_upload(model, inputs, destination, upload=None, source=None, mask=None,
                      details="", tolerance=1e-5):
    """save_to_preset -> from_preset -> outputs on ``inputs`` within ``tolerance`` of the
    model's -> upload to ``upload`` (hf://org/name) when given. Prints what it did; returns
    the exit code (1 when the reload differs)."""
    import zoo

    model.save_to_preset(destination, source=source)
    reloaded = zoo.Model.from_preset(destination)
    difference = max_difference(model(inputs), reloaded(inputs), mask)
    print(f"{type(model).__name__} ({model.count_params():,} parameters{details}) -> "
          f"{destination}; reloaded max |difference| = {difference:.2e}")
    if difference > tolerance:
        print("error: the reloaded preset does not reproduce the converted model",
              file=sys.stderr)
        return 1
    if upload:
        from zoo.hub import upload_preset

        info = upload_preset(upload, destination)
        print(f"uploaded to {upload} at commit {getattr(info, 'commit', '?')}")
    return 0
