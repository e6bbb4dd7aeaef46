"""Task: a backbone plus a head (and optionally a preprocessor), e.g. BertTextClassifier.

Protocol the preset hub relies on (zoo/hub/loading.py):
- class attributes ``backbone_cls`` (the Backbone subclass this task wraps) and
  ``preprocessor_cls`` (the Preprocessor subclass that feeds it, or None);
- ``__init__(self, backbone, preprocessor=None, **head_config)``;
- instances expose ``.backbone`` and ``.preprocessor``;
- ``get_config()`` holds the head config plus ``backbone`` (serialized) and
  ``preprocessor`` (serialized or None).
"""
from zoo.engine.model import Model


class Task(Model):
    backbone_cls = None
    preprocessor_cls = None
