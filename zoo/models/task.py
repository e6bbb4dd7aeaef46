"""Task: a backbone plus a head (and optionally a preprocessor), e.g. BertTextClassifier.

Protocol the preset hub relies on (zoo/hub/loaders/):
- ``preset_role = "task"`` (how the hub, which imports no model class, knows a task);
- class attributes ``backbone_cls`` (the Backbone subclass this task wraps) and
  ``preprocessor_cls`` (the Preprocessor subclass that feeds it, or None);
- ``__init__(self, backbone, preprocessor=None, **head_config)``;
- instances expose ``.backbone`` and ``.preprocessor``;
- ``get_config()`` holds the head config plus ``backbone`` (serialized) and
  ``preprocessor`` (serialized or None).

Behaviour added here for every task:
- ``get_config``/``from_config`` follow that protocol from the constructor's arguments;
- with a preprocessor attached, ``fit``/``evaluate``/``predict`` take raw inputs: whatever
  the preprocessor's ``accepts_raw`` says it takes (strings and tuples of segments for a
  tokenizer, waveforms for an audio converter, images for an image converter), or
  datasets/generators/DataLoaders that yield them: each batch goes through
  ``preprocessor(x, y, sample_weight)`` as it is drawn (zoo/models/raw_inputs.py), so
  random preprocessing (masking for pre-training) differs every epoch. Inputs the
  preprocessor does not accept (dicts of arrays, token ids) pass through untouched.
"""
import inspect

from zoo.engine.data_adapter import unpack
from zoo.engine.model import Model, constructor_arguments
from zoo.models.raw_inputs import PreprocessedBatches, is_source
from zoo.saving import serialization


class Task(Model):
    preset_role = "task"  # zoo/hub/loaders/classes.py
    backbone_cls = None
    preprocessor_cls = None

    # -- config ---------------------------------------------------------------------------
    def get_config(self):
        """The constructor's arguments: ``backbone`` and ``preprocessor`` serialized, the
        head config as given (it must be plain data)."""
        config = constructor_arguments(self, apply_defaults=True)
        parameters = inspect.signature(type(self).__init__).parameters
        takes_any = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        for key in ("name", "trainable"):
            if takes_any or key in parameters:
                config[key] = getattr(self, key)
        config["backbone"] = serialization.serialize(self.backbone)
        preprocessor = getattr(self, "preprocessor", None)
        config["preprocessor"] = None if preprocessor is None else \
            serialization.serialize(preprocessor)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = serialization.deserialize(config[key], custom_objects=custom_objects,
                                                        safe_mode=safe_mode)
        return cls(**config)

    # -- raw inputs ---------------------------------------------------------------------
    def _needs_preprocessing(self, x):
        """The preprocessor decides (``accepts_raw``); a dataset is checked batch by batch."""
        preprocessor = getattr(self, "preprocessor", None)
        if preprocessor is None or isinstance(x, PreprocessedBatches):
            return False
        accepts_raw = getattr(preprocessor, "accepts_raw", None)
        return bool(accepts_raw is not None and accepts_raw(x)) or is_source(x)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, sample_weight=None,
            **kwargs):
        if validation_data is not None:
            validation_data = self._preprocessed_validation(
                validation_data, kwargs.get("validation_batch_size") or batch_size)
        if self._needs_preprocessing(x):
            data = PreprocessedBatches(self.preprocessor, x, y, sample_weight, batch_size,
                                       shuffle=shuffle)
            if validation_split and validation_data is None:
                data, validation_data = data.split(validation_split)
            x, y, sample_weight, batch_size, validation_split = data, None, None, None, 0.0
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                           callbacks=callbacks, validation_split=validation_split,
                           validation_data=validation_data, shuffle=shuffle,
                           sample_weight=sample_weight, **kwargs)

    def _preprocessed_validation(self, data, batch_size):
        if isinstance(data, PreprocessedBatches):
            return data
        if isinstance(data, (tuple, list)) and len(data) in (2, 3):
            vx, vy, vw = unpack(tuple(data))
        else:
            vx, vy, vw = data, None, None
        if not self._needs_preprocessing(vx):
            return data
        return PreprocessedBatches(self.preprocessor, vx, vy, vw, batch_size)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 **kwargs):
        if self._needs_preprocessing(x):
            x = PreprocessedBatches(self.preprocessor, x, y, sample_weight, batch_size)
            y = sample_weight = batch_size = None
        return super().evaluate(x, y, batch_size=batch_size, verbose=verbose,
                                sample_weight=sample_weight, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        if self._needs_preprocessing(x):
            x = PreprocessedBatches(self.preprocessor, x, batch_size=batch_size)
            batch_size = None
        return super().predict(x, batch_size=batch_size, verbose=verbose, **kwargs)
