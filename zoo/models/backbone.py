"""Backbone: the base of every architecture's headless model (BertBackbone, OPTBackbone, ...).

A backbone is a functional model whose ``get_config()`` rebuilds it exactly; tasks
(classifiers, language-model heads) wrap one as ``task.backbone``.
"""
from zoo.engine.model import Model


class Backbone(Model):
    """Headless model of one architecture; ``from_preset`` also accepts a task preset and
    returns that task's backbone."""
