"""CheckpointLoader: a checkpoint of another ecosystem (transformers, CTranslate2,
openai-whisper, ultralytics, ...), converted to a zoo backbone (and head) while it loads.

A subclass reads its files and implements:

    claims(path)                     (classmethod) whether ``path`` is such a checkpoint
    backbone_class()                 the zoo Backbone it converts to
    backbone_config()                that backbone's config, from the checkpoint's
    read_weights()                   a mapping of tensor name -> NumPy array (lazy is best)
    port_backbone_weights(backbone, reader)        assigns every backbone variable
    head_porter(task_cls)            fn(task, reader) for the head, or None (a fresh head);
                                     a KeyError from it means "no head here": fresh head
    saved_task()                     optional: (task class, default overrides) that
                                     ``zoo.Model.from_preset`` returns instead of the backbone
    make_component(kind, cls)        optional: a preprocessing component ("tokenizer",
                                     "audio_converter", "image_converter") of class ``cls``
                                     from the checkpoint's files, or None
    preprocessor_options(pre_cls)    optional: extra preprocessor arguments

The dispatch (which class comes back) follows the backbone it converts to: ``cls`` may be
that backbone's class (or a base), or a Task whose ``backbone_cls`` it is.
"""
import tempfile
import warnings

from zoo.hub.loaders import classes
from zoo.hub.loaders.base import ModelPlan, PresetLoader, apply_overrides, split_overrides
from zoo.hub.preset_format import PresetError


class CheckpointLoader(PresetLoader):
    kind = "checkpoint"

    reader = None  # read_weights() once weights are loaded

    @property
    def description(self):
        """What the checkpoint is, for messages ("a transformers 'bert' checkpoint")."""
        return f"a {self.kind}"

    # -- what a subclass implements -----------------------------------------------------------
    def backbone_class(self):
        raise NotImplementedError

    def backbone_config(self):
        raise NotImplementedError

    def read_weights(self):
        raise NotImplementedError

    def port_backbone_weights(self, backbone, reader):
        raise NotImplementedError

    def head_porter(self, task_cls):
        return None

    def saved_task(self):
        return None

    def make_component(self, kind, cls):
        return None

    def preprocessor_options(self, pre_cls):
        return {}

    # -- PresetLoader -----------------------------------------------------------------------
    def plan_model(self, cls, overrides):
        backbone_cls = self.backbone_class()
        saved = self.saved_task() if classes.is_generic(cls) else None
        if saved is not None:  # the generic entry point: the task the checkpoint was saved as
            cls, defaults = saved
            overrides = {**defaults, **overrides}
        if issubclass(backbone_cls, cls):
            task_cls = None
        elif classes.is_task(cls) and cls.backbone_cls and issubclass(backbone_cls,
                                                                      cls.backbone_cls):
            task_cls = cls
        else:
            raise PresetError(f"{self.label} is {self.description}, which converts to "
                              f"{backbone_cls.__name__}, not a {cls.__name__}.")
        try:
            config = self.backbone_config()
        except (KeyError, TypeError, ValueError) as error:
            raise PresetError(f"{self.label}: cannot convert its config "
                              f"({type(error).__name__}: {error}).") from error
        if task_cls is None:
            head_overrides = {}
            backbone_overrides = apply_overrides({}, overrides, backbone_cls, self.label,
                                                 extra=config)
        else:
            head_overrides, backbone_overrides = split_overrides(
                overrides, classes.head_parameters(task_cls), config, self.label, task_cls)
        return ModelPlan(backbone_cls, {**config, **backbone_overrides}, "its converted config",
                         task_cls=task_cls, head_overrides=head_overrides)

    def open_weights(self):
        self.reader = self.read_weights()

    def port_backbone(self, backbone, plan):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.port_backbone_weights(backbone, self.reader)
        for warning in caught:  # the converter's own explanation, passed on
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
        if not caught:
            self._warn_unassigned(backbone)

    def _warn_unassigned(self, backbone):
        """Float variables the converter did not assign keep their initializer: say which
        (integer states such as dropout seeds are expected to)."""
        from zoo.backend.common import dtypes

        missed = [v.path for v in backbone.variables if v.deferred and dtypes.is_float(v.dtype)]
        if missed:
            shown = ", ".join(missed[:8]) + (f" and {len(missed) - 8} more"
                                             if len(missed) > 8 else "")
            warnings.warn(f"{self.label}: {self.description} has no weights for "
                          f"{len(missed)} {type(backbone).__name__} variables, which start "
                          f"freshly initialized: {shown}", stacklevel=5)

    def port_task(self, task, plan, rebuild):
        porter = self.head_porter(type(task))
        if porter is None:
            return task
        try:
            porter(task, self.reader)
        except KeyError as error:  # the checkpoint has no weights for this head
            warnings.warn(f"{self.label} has no weights for the {type(task).__name__} head "
                          f"({error}); the head starts fresh.", stacklevel=5)
            task = rebuild()
        return task

    def task_preprocessor(self, task_cls):
        """The task's preprocessor with every component the checkpoint has files for (None
        when it has none)."""
        pre_cls = getattr(task_cls, "preprocessor_cls", None)
        if pre_cls is None:
            return None
        components = {kind: self._component(component_cls, {}, required=False)
                      for kind, component_cls in pre_cls.component_classes().items()}
        components = {kind: c for kind, c in components.items() if c is not None}
        if not components:
            return None
        return pre_cls(**components, **self.preprocessor_options(pre_cls))

    def load_component(self, cls, overrides):
        return self._component(cls, overrides, required=True)

    def load_preprocessor(self, cls, overrides):
        kinds = cls.component_classes() if not classes.is_generic(cls) else {}
        if not kinds:
            raise PresetError(f"{self.label} is {self.description}: load it with an "
                              f"architecture's preprocessor class (e.g. "
                              f"BertPreprocessor.from_preset).")
        components = {kind: self._component(component_cls, {}, required=True)
                      for kind, component_cls in kinds.items()}
        config = apply_overrides(self.preprocessor_options(cls), overrides, cls, self.label)
        return cls(**components, **config)

    def _component(self, cls, overrides, required):
        kind = cls.preset_kind
        component = self.make_component(kind, cls)
        if component is None:
            if required:
                raise PresetError(f"{self.label}: no {kind.replace('_', ' ')} could be made "
                                  f"from {self.description}.")
            return None
        if overrides:  # rebuild from its config + assets with the overrides applied
            config = apply_overrides(component.get_config(), overrides, type(component),
                                     self.label)
            rebuilt = type(component).from_config(config)
            with tempfile.TemporaryDirectory(prefix=f"zoo-{kind}-") as scratch:
                component.save_assets(scratch)
                rebuilt.load_assets(scratch)
            component = rebuilt
        return component
