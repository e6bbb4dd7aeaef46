"""Preprocessors and their components: what turns raw inputs into a model's inputs.

A ``Preprocessor`` holds up to one component of each kind, in a slot named after it:

    tokenizer          Tokenizer        text -> token ids
    audio_converter    AudioConverter   waveforms (or audio file paths) -> features
    image_converter    ImageConverter   images (arrays, PIL images, file paths) -> pixels

with the class attributes ``tokenizer_cls``, ``audio_converter_cls``, ``image_converter_cls``
naming the classes it takes. The preprocessor, through its components, decides which raw
inputs it takes: ``accepts_raw(x)`` is what a Task asks before it runs ``fit``/``predict``/
``generate`` input through it (zoo/models/raw_inputs.py).

Protocol the preset hub relies on (zoo/hub/loaders/, zoo/hub/saving.py):
- components and preprocessors are plain objects with ``get_config()`` and
  ``from_config(config)``; a config holds only JSON data (never file contents, never code);
- a component's ``preset_kind`` names its files in a preset: ``<kind>.json`` (class and
  config) and ``assets/<kind>/``, which ``save_assets(directory)`` fills with the files it
  needs (e.g. ``vocab.txt``) and ``load_assets(directory)`` reads back into an object built
  by ``from_config``;
- ``checkpoint_files``: the files of a transformers checkpoint the component is made from
  (what ``zoo download`` fetches besides the weights);
- a Preprocessor's config holds its own options; its components are saved on their own.
"""
import os

import numpy as np

from zoo.models import image_io

COMPONENT_KINDS = ("tokenizer", "audio_converter", "image_converter")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def _first(x):
    """The first example of a batch given as a list/tuple (None for an empty one)."""
    return x[0] if isinstance(x, (list, tuple)) and x else None


def _is_path(x, suffixes):
    return isinstance(x, (str, os.PathLike)) and os.fspath(x).lower().endswith(suffixes)


class PreprocessingComponent:
    """Base of Tokenizer, AudioConverter and ImageConverter."""
    preset_kind = None
    checkpoint_files = ()

    @classmethod
    def from_preset(cls, handle, **overrides):
        from zoo.hub import loaders

        return loaders.load_component(handle, cls, **overrides)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_assets(self, directory):
        pass

    def load_assets(self, directory):
        pass

    def accepts(self, x):
        """Whether ``x`` is raw input of this component's kind (one example or a batch)."""
        return False


class Tokenizer(PreprocessingComponent):
    preset_kind = "tokenizer"

    def accepts(self, x):
        """A string, bytes, an array of strings, or a list/tuple whose first item is one."""
        if isinstance(x, (str, bytes, np.str_, np.bytes_)):
            return True
        if isinstance(x, np.ndarray):
            return x.dtype.kind in "USO" and (x.dtype.kind != "O" or x.size == 0 or
                                              isinstance(x.flat[0], (str, bytes)))
        first = _first(x)
        return first is not None and self.accepts(first)


class AudioConverter(PreprocessingComponent):
    preset_kind = "audio_converter"

    def accepts(self, x):
        """A float or int16 PCM waveform (samples,), a batch (batch, samples) or a stereo
        (samples, channels) one, a ``{"raw": array, "sampling_rate": sr}`` dict, a list of
        those, or audio file paths."""
        if _is_path(x, AUDIO_SUFFIXES) or _is_audio_dict(x):
            return True
        if isinstance(x, np.ndarray):
            return _is_waveform(x)
        first = _first(x)
        return first is not None and (_is_path(first, AUDIO_SUFFIXES) or _is_audio_dict(first)
                                      or (isinstance(first, np.ndarray) and _is_waveform(first)))


def _is_waveform(x):
    return (x.dtype.kind == "f" or x.dtype == np.int16) and x.ndim in (1, 2)


def _is_audio_dict(x):
    return isinstance(x, dict) and ("raw" in x or "array" in x)


class ImageConverter(PreprocessingComponent):
    preset_kind = "image_converter"

    def accepts(self, x):
        """An image (H, W, C) or batch (B, H, W, C) array, a PIL image, a list of them, or
        image file paths."""
        if _is_path(x, IMAGE_SUFFIXES) or image_io.is_pil_image(x):
            return True
        if isinstance(x, np.ndarray):
            return x.dtype.kind in "uif" and x.ndim in (3, 4) and x.shape[-1] in (1, 3, 4)
        first = _first(x)
        return first is not None and not isinstance(first, (list, tuple)) and self.accepts(first)


class Preprocessor:
    tokenizer_cls = audio_converter_cls = image_converter_cls = None
    tokenizer = audio_converter = image_converter = None

    @classmethod
    def from_preset(cls, handle, **overrides):
        from zoo.hub import loaders

        return loaders.load_preprocessor(handle, cls, **overrides)

    @classmethod
    def component_classes(cls):
        """{kind: class} of the components this preprocessor takes."""
        return {kind: getattr(cls, f"{kind}_cls") for kind in COMPONENT_KINDS
                if getattr(cls, f"{kind}_cls", None) is not None}

    def components(self):
        """{kind: component} of the components it holds."""
        return {kind: getattr(self, kind) for kind in COMPONENT_KINDS
                if getattr(self, kind, None) is not None}

    def accepts_raw(self, x):
        """Whether ``x`` is raw input this preprocessor turns into model inputs (asked by a
        Task before ``fit``/``evaluate``/``predict``, per batch for datasets). Inputs that are
        already model inputs (dicts of arrays, token id arrays) are not."""
        return any(component.accepts(x) for component in self.components().values())

    def _check_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError(f"{type(self).__name__} has no tokenizer; pass tokenizer= or load "
                             f"it with {type(self).__name__}.from_preset(...).")
        return self.tokenizer

    def get_config(self):
        """Its components (serialized); subclasses add their options."""
        from zoo.saving import serialization

        return {kind: serialization.serialize(component)
                for kind, component in self.components().items()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_assets(self, directory):
        """Every component's assets, each in ``directory/<kind>`` (the tokenizer's directly
        in ``directory`` when it is the only component, as before components)."""
        components = self.components()
        if list(components) == ["tokenizer"]:
            self.tokenizer.save_assets(directory)
            return
        for kind, component in components.items():
            os.makedirs(os.path.join(directory, kind), exist_ok=True)
            component.save_assets(os.path.join(directory, kind))

    def load_assets(self, directory):
        classes = self.component_classes()
        if list(classes) == ["tokenizer"]:
            if self.tokenizer is None:
                self.tokenizer = self.tokenizer_cls()
            self.tokenizer.load_assets(directory)
            return
        for kind, component_cls in classes.items():
            if getattr(self, kind, None) is None:
                setattr(self, kind, component_cls())
            getattr(self, kind).load_assets(os.path.join(directory, kind))
