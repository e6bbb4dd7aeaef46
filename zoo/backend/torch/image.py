"""Image ops for the torch backend (4D images; conventions in zoo.ops.image.resize)."""
import math

import torch
import torch.nn.functional as F


def _nearest_indices(in_size, out_size, device):
    src = [min(math.floor((i + 0.5) * in_size / out_size), in_size - 1) for i in range(out_size)]
    return torch.tensor(src, dtype=torch.long, device=device)


def resize(images, size, interpolation, antialias, data_format):
    h_axis = 1 if data_format == "channels_last" else 2
    if interpolation == "nearest":  # a gather works for every dtype
        h, w = images.shape[h_axis], images.shape[h_axis + 1]
        out = images.index_select(h_axis, _nearest_indices(h, size[0], images.device))
        return out.index_select(h_axis + 1, _nearest_indices(w, size[1], images.device))
    x = images.permute(0, 3, 1, 2) if data_format == "channels_last" else images
    out = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False,
                        antialias=antialias)
    return out.permute(0, 2, 3, 1) if data_format == "channels_last" else out
