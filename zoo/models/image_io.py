"""Reading raw images for any image model: files, PIL images, arrays, batches.

``load_images(images)`` turns what a user gives an image converter into a list of uint8
RGB arrays (H, W, 3), one per image, each of its own size:

    a file path (str / os.PathLike)    decoded whole with pillow (a truncated file is an
                                       error, never padded with grey), its EXIF orientation
                                       applied (a phone photo comes out upright)
    a PIL image                        taken as it is (no EXIF rotation: the caller holds
                                       the image and chose how to open it)
    an array (H, W, C)                 RGB (C = 3), grayscale (C = 1, or a 2-D (H, W)) or
                                       RGBA (C = 4, alpha dropped); arrays are taken as RGB,
                                       so an OpenCV (BGR) array needs ``[..., ::-1]`` first
    an array (B, H, W, C)              a batch of B images of one size
    a list / tuple of any of those     a batch, images of any sizes

Pixel values: uint8 as they are. Other integer and float arrays hold intensities on the
same 0..255 scale (a float 0.5 is half a level, not mid grey): they are rounded to uint8
and must lie within [0, 255]; an array outside it (e.g. -1..1) is an error rather than a
silent clip, and an array in 0..1 reads as almost black, so scale it by 255 first.
Pillow modes other than RGB are converted with pillow (grayscale, palette, RGBA without
compositing, CMYK); 16-bit grayscale is scaled to 0..255 (65535 -> 255).

Errors are ``ImageError`` (a ValueError; a missing file is also a FileNotFoundError) and
name the file or the argument (``images[i]``) at fault. Pillow (the "image" extra) is
imported only when a file or a PIL image is read.
"""
import os

import numpy as np

SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


class ImageError(ValueError):
    """An input that is not a readable image (the message names it)."""


class MissingImageError(ImageError, FileNotFoundError):
    """An image path that does not exist."""


def describe(x, index=None):
    """How an error names one input: ``images[i]`` (or ``images``), and the file if any."""
    name = "images" if index is None else f"images[{index}]"
    if isinstance(x, (str, os.PathLike)):
        return f"{name} (image file {os.fspath(x)!r})"
    return name


def is_pil_image(x):
    return hasattr(x, "getbands") and hasattr(x, "size") and hasattr(x, "mode")


def _as_array(x):
    """A framework tensor or other array-like -> NumPy (PIL images and paths untouched)."""
    if isinstance(x, (str, os.PathLike, np.ndarray, list, tuple)) or is_pil_image(x):
        return x
    if hasattr(x, "numpy"):  # torch / tensorflow tensors
        return np.asarray(x.numpy())
    return np.asarray(x) if hasattr(x, "__array__") else x


def is_batch(images):
    """A list / tuple of images, or a 4-D array (B, H, W, C)."""
    return isinstance(images, (list, tuple)) or (isinstance(images, np.ndarray)
                                                  and images.ndim == 4)


def read_image_file(path, name):
    """An image file -> uint8 RGB (H, W, 3), fully decoded, EXIF orientation applied."""
    from PIL import Image, ImageOps

    filename = os.fspath(path)
    if not os.path.exists(filename):
        raise MissingImageError(f"{name}: the file does not exist.")
    if os.path.isdir(filename):
        raise ImageError(f"{name}: is a directory, not an image file.")
    try:
        with Image.open(filename) as img:
            img.load()  # decode it all now, so a truncated file fails here
            return pil_to_rgb(ImageOps.exif_transpose(img), name)
    except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
        raise ImageError(f"{name}: could not be read as an image (not an image, corrupt or "
                         f"truncated): {error}") from error


def pil_to_rgb(img, name):
    """A PIL image -> uint8 RGB (H, W, 3); 16-bit grayscale scaled to 0..255."""
    try:
        img.load()  # a lazily opened, truncated file fails here
        if img.mode in SIXTEEN_BIT_MODES:
            levels = np.clip(np.asarray(img, np.float32), 0, 65535) / 257.0
            array = np.rint(levels).astype(np.uint8)  # (H, W)
        else:
            array = np.asarray(img.convert("RGB"))  # (H, W, 3)
    except (OSError, SyntaxError, EOFError, ValueError) as error:
        raise ImageError(f"{name}: the PIL image (mode {img.mode!r}) could not be decoded "
                         f"or converted to RGB: {error}") from error
    return array_to_rgb(array, name)


def _to_uint8(x, name):
    """Pixel values on the 0..255 scale (see the module docstring) -> uint8."""
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind not in "uif":
        raise ImageError(f"{name}: pixels of dtype {x.dtype} are not an image (use uint8, or "
                         f"integer / float intensities in [0, 255]).")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise ImageError(f"{name}: the image holds NaN or infinite values.")
    low, high = x.min(), x.max()
    if low < 0 or high > 255:
        raise ImageError(f"{name}: pixel values must lie within [0, 255] (uint8 intensities), "
                         f"got [{low}, {high}]; scale the image to 0..255 first.")
    return np.rint(x).astype(np.uint8) if x.dtype.kind == "f" else x.astype(np.uint8)


def array_to_rgb(x, name):
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> uint8 RGB (H, W, 3)."""
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] not in (1, 3, 4):
        raise ImageError(f"{name}: expected an image (H, W), (H, W, C) or a batch "
                         f"(B, H, W, C) with C in 1, 3, 4, got shape {x.shape}.")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ImageError(f"{name}: the image is empty (shape {x.shape}).")
    x = _to_uint8(x, name)
    if x.shape[-1] == 1:
        return np.repeat(x, 3, axis=-1)
    return np.ascontiguousarray(x[..., :3])


def load_image(x, name):
    """One image (a path, a PIL image or an array) -> uint8 RGB (H, W, 3)."""
    x = _as_array(x)
    if isinstance(x, (str, os.PathLike)):
        return read_image_file(x, name)
    if is_pil_image(x):
        return pil_to_rgb(x, name)
    if isinstance(x, np.ndarray):
        return array_to_rgb(x, name)
    raise ImageError(f"{name}: expected an image file path, a PIL image or an array, got "
                     f"{type(x).__name__}.")


def load_images(images):
    """``images`` (one image or a batch, see the module docstring) -> (list of uint8 RGB
    arrays (H, W, 3), whether it was a batch)."""
    images = _as_array(images)
    batched = is_batch(images)
    examples = list(images) if batched else [images]
    if not examples:
        raise ImageError("images: an empty batch (no images).")
    return [load_image(x, describe(x, i if batched else None))
            for i, x in enumerate(examples)], batched
