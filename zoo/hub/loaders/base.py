"""PresetLoader: the one way a preset or checkpoint becomes a model, tokenizer or preprocessor.

A loader serves one checkpoint ecosystem (zoo presets, transformers checkpoints, and those an
architecture registers: CTranslate2, openai-whisper, ultralytics). It says whether it can read
a path (``claims``), and plans what to build; ``load_model`` below then does the part every
ecosystem shares, written once:

    plan = loader.plan_model(cls, overrides)      which classes, which configs
    with the dtype policy, DeferredInitScope():   variables get memory from the file
        backbone = plan.backbone_cls(config)      (any non-task model is the "backbone")
        loader.port_backbone(backbone, plan)      its weights
        task = plan.task_cls(backbone, preprocessor, **head)
        loader.port_task(task, plan, rebuild)     the head's weights (or a fresh head)

Memory: models are built inside a DeferredInitScope, so each variable gets its storage from
the file it is loaded from (one tensor in flight), never a random init first.
"""
import contextlib
import dataclasses

from zoo.backend.common.variables import DeferredInitScope
from zoo.hub.loaders import classes
from zoo.hub.preset_format import PresetError
from zoo.saving import serialization


@dataclasses.dataclass
class ModelPlan:
    """What ``load_model`` builds. ``backbone_cls`` is the model the config builds (a
    Backbone, or any model that is not a task); ``task_cls`` wraps it, or is None."""
    backbone_cls: type
    backbone_config: dict
    backbone_source: str                 # where the config came from, for error messages
    task_cls: type = None
    head_config: dict = dataclasses.field(default_factory=dict)
    head_overrides: dict = dataclasses.field(default_factory=dict)
    build_spec: dict = None              # config.json's "build": an input shape for
    build_target: str = None             # "backbone" or "task" when its config does not
                                         # build it
    mode: str = None                     # loader-specific: how weights are laid out


class PresetLoader:
    """Base of every loader. A subclass implements ``claims`` and the hooks below."""

    #: a short name for messages ("zoo preset", "transformers checkpoint")
    kind = "preset"

    def __init__(self, path, handle, allow_pickle=False):
        self.path = path
        self.handle = handle
        self.allow_pickle = allow_pickle  # only a conversion script asks for pickle files
        self.label = f"preset {str(handle)!r}"

    @classmethod
    def claims(cls, path):
        """Whether this loader reads ``path`` (a local directory, or a single file)."""
        raise NotImplementedError

    @classmethod
    def remote_files(cls, listing, allow_pickle=False):
        """For a repository on the Hub whose files are ``listing`` (paths): the files to
        download when this loader reads it, or None (not its kind). zoo presets and
        transformers checkpoints have their own rules (zoo/hub/download.py)."""
        return None

    @property
    def source_text(self):
        """Where the weights came from (metadata.json's "source" when saved again)."""
        return f"{self.handle} ({self.kind}, converted by zoo)"

    # -- hooks ------------------------------------------------------------------------------
    def plan_model(self, cls, overrides):
        """-> ModelPlan for ``cls.from_preset(..., **overrides)``; PresetError when the
        checkpoint holds no ``cls``."""
        raise NotImplementedError

    def open_weights(self):
        """Called before anything is built when weights are loaded (refuse early)."""

    def task_preprocessor(self, task_cls):
        """The preprocessor a task loaded from here gets, or None."""
        return None

    def port_backbone(self, backbone, plan):
        """Give ``backbone``'s variables their values."""
        raise NotImplementedError

    def port_task(self, task, plan, rebuild):
        """Give the head's variables their values; return the task (``rebuild()`` makes a
        fresh one when the checkpoint has no head)."""
        return task

    def load_component(self, cls, overrides):
        """A preprocessing component (``cls.preset_kind``: tokenizer, audio converter, image
        converter) for ``cls.from_preset``."""
        raise PresetError(f"{self.label} ({self.kind}) has no {cls.preset_kind} zoo can read.")

    def load_preprocessor(self, cls, overrides):
        raise PresetError(f"{self.label} ({self.kind}) has no preprocessor zoo can read.")

    # -- the shared part --------------------------------------------------------------------
    def load_model(self, cls, load_weights=True, dtype=None, overrides=None):
        plan = self.plan_model(cls, dict(overrides or {}))
        if load_weights:
            self.open_weights()
        task_cls = plan.task_cls
        preprocessor = self.task_preprocessor(task_cls) if task_cls is not None else None

        def make_task(backbone):
            head = with_dtype({**plan.head_config, **plan.head_overrides}, task_cls, dtype)
            try:
                return task_cls(backbone=backbone, preprocessor=preprocessor, **head)
            except TypeError as error:
                raise TypeError(f"{self.label}: cannot build {task_cls.__name__}: {error}") \
                    from error

        with dtype_scope(dtype), DeferredInitScope():
            model = construct(plan.backbone_cls, with_dtype(plan.backbone_config,
                                                            plan.backbone_cls, dtype),
                              self.label, plan.backbone_source)
            if plan.build_target == "backbone":
                build_if_needed(model, plan.build_spec, self.label)
            if load_weights:
                self.port_backbone(model, plan)
            if task_cls is not None:
                backbone, model = model, make_task(model)
                if plan.build_target == "task":
                    build_if_needed(model, plan.build_spec, self.label)
                if load_weights:
                    model = self.port_task(model, plan, lambda: make_task(backbone))
        model._zoo_preset_source = self.source_text
        return model


# -- helpers the loaders share ----------------------------------------------------------------

@contextlib.contextmanager
def dtype_scope(dtype):
    """While building: layers given no dtype use ``dtype`` (restored afterwards)."""
    if dtype is None:
        yield
        return
    from zoo.layers import dtype_policy

    previous = dtype_policy._GLOBAL_POLICY
    dtype_policy.set_dtype_policy(dtype)
    try:
        yield
    finally:
        dtype_policy._GLOBAL_POLICY = previous


def with_dtype(config, cls, dtype):
    if dtype is not None and ("dtype" in config or "dtype" in classes.named_parameters(cls)):
        return {**config, "dtype": dtype}
    return config


def apply_overrides(config, overrides, cls, label, extra=()):
    """``config`` with ``overrides`` applied; every key must exist in the config or be a
    named constructor argument."""
    allowed = set(config) | (classes.named_parameters(cls) - {"self"}) | set(extra)
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"{label}: unknown override{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(repr, unknown))} for {cls.__name__} (its config has: "
                         f"{', '.join(sorted(config)) or 'nothing'}).")
    return {**config, **overrides}


def split_overrides(overrides, head_keys, backbone_config, label, cls):
    """Task loads: a key goes to the task head if the head takes it, else to the backbone."""
    head, backbone = {}, {}
    for key, value in overrides.items():
        if key in head_keys:
            head[key] = value
        elif key in backbone_config:
            backbone[key] = value
        else:
            raise ValueError(f"{label}: unknown override {key!r} for {cls.__name__} (neither "
                             f"its head ({', '.join(sorted(head_keys))}) nor its backbone "
                             f"({', '.join(sorted(backbone_config))}) takes it).")
    return head, backbone


def construct(cls, config, label, what):
    """``cls.from_config(config)``, with errors that name the preset."""
    name = classes.class_name(cls)
    try:
        return serialization.deserialize({"class_name": name, "config": config},
                                         custom_objects={name: cls})
    except (TypeError, ValueError, KeyError) as error:
        raise type(error)(f"{label}: cannot build {cls.__name__} from {what}: {error}") \
            from error


def build_if_needed(model, build_spec, label):
    """Build a model its config does not build, from the input shape config.json records."""
    if getattr(model, "built", True):
        return
    shape = (build_spec or {}).get("input_shape")
    if shape is not None:
        from zoo.saving.model_file import _shape_from_json

        model.build(_shape_from_json(shape))
    elif not model.variable_paths():
        raise PresetError(f"{label}: {classes.class_name(type(model))} is not built by its "
                          f"config and config.json records no input shape to build it with.")


def describe(model):
    return f"{type(model).__name__} {model.name!r}"
