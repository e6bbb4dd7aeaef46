"""The dispatch table from a transformers ``model_type`` to the zoo code that converts it.

Each architecture registers itself from its own ``convert.py``::

    register_converter("bert", "zoo.models.bert:BertBackbone", backbone_config, load_backbone,
                       task_loaders={BertMaskedLM: load_masked_lm_head}, tokenizer=tokenizer)

    backbone_config(hf_config: dict) -> dict        the zoo backbone's config
    load_backbone(backbone, reader) -> None          assigns every backbone variable
    task_loaders: {TaskClass: load_head(task, reader) -> None}
    tokenizer(directory, cls) -> Tokenizer or None   from vocab.txt / tokenizer.json ...
    audio_converter / image_converter(directory, cls)   the same for the other components
    task_config(directory, task_cls) -> dict         head arguments read from the checkpoint's
                                                     files (Whisper's generation_config.json)

The files a download fetches besides the weights are those the architecture's preprocessing
components declare (their ``checkpoint_files``).

``reader`` is a CheckpointReader (or any mapping of NumPy arrays). zoo's architectures
register when ``zoo.models`` is imported, which ``get_converter`` does on first need (the hub
imports no architecture by name). ``MODULES`` maps a model_type to a module outside
``zoo.models`` whose import registers it (a plugin), imported on first use.

The transformers loader (zoo/hub/loaders/transformers.py) uses this table; a checkpoint of
another ecosystem gets a loader of its own (zoo/hub/loaders/registry.py).
"""
import importlib
from dataclasses import dataclass, field

# model_type -> module outside zoo.models whose import registers its converter.
MODULES = {}

_CONVERTERS = {}


def _resolve(target):
    """A class, or a lazy "package.module:Name" string -> the class."""
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    if not name:
        raise ValueError(f"Lazy class reference {target!r} must look like 'package.module:Name'.")
    return getattr(importlib.import_module(module), name)


@dataclass
class Converter:
    model_type: str
    backbone_cls: object
    backbone_config: object
    load_backbone: object
    task_loaders: dict = field(default_factory=dict)
    components: dict = field(default_factory=dict)  # kind -> make(directory, cls)
    architectures: dict = field(default_factory=dict)
    task_config: object = None  # fn(directory, task_cls) -> head kwargs, or None

    @property
    def tokenizer(self):
        return self.components.get("tokenizer")

    def task_for(self, hf_config):
        """The task class the checkpoint's ``architectures`` names (e.g.
        BertForSequenceClassification -> BertTextClassifier), or None."""
        for name in hf_config.get("architectures") or []:
            if name in self.architectures:
                return _resolve(self.architectures[name])
        return None

    def backbone_class(self):
        return _resolve(self.backbone_cls)

    def task_classes(self):
        return [_resolve(t) for t in [*self.task_loaders, *self.architectures.values()]]

    def checkpoint_files(self):
        """The files of a checkpoint its tasks' preprocessing components are made from."""
        files = set()
        for task_cls in self.task_classes():
            pre_cls = getattr(task_cls, "preprocessor_cls", None)
            if pre_cls is not None:
                for component_cls in pre_cls.component_classes().values():
                    files.update(getattr(component_cls, "checkpoint_files", ()))
        return files

    def head_loader(self, task_cls):
        """The head loader registered for ``task_cls`` (or its nearest base), or None."""
        loaders = {_resolve(k): v for k, v in self.task_loaders.items()}
        for klass in task_cls.__mro__:
            if klass in loaders:
                return loaders[klass]
        return None


def register_converter(model_type, backbone_cls, backbone_config, load_backbone,
                       task_loaders=None, tokenizer=None, architectures=None,
                       audio_converter=None, image_converter=None, task_config=None):
    """Register how a transformers checkpoint of ``model_type`` becomes a zoo model;
    ``architectures`` maps transformers class names to the task ``zoo.Model.from_preset``
    returns for them."""
    for name, fn in (("backbone_config", backbone_config), ("load_backbone", load_backbone)):
        if not callable(fn):
            raise TypeError(f"register_converter({model_type!r}): {name} must be callable.")
    components = {kind: make for kind, make in (("tokenizer", tokenizer),
                                                ("audio_converter", audio_converter),
                                                ("image_converter", image_converter))
                  if make is not None}
    converter = Converter(model_type, backbone_cls, backbone_config, load_backbone,
                          dict(task_loaders or {}), components, dict(architectures or {}),
                          task_config)
    _CONVERTERS[model_type] = converter
    return converter


def get_converter(model_type, where="this checkpoint"):
    """The Converter for ``model_type``, importing its module on first use."""
    if model_type not in _CONVERTERS:
        from zoo.hub.loaders.classes import import_architectures

        import_architectures()
    if model_type not in _CONVERTERS and model_type in MODULES:
        try:
            importlib.import_module(MODULES[model_type])
        except ModuleNotFoundError as error:
            if not MODULES[model_type].startswith(error.name or "\0"):
                raise
    if model_type not in _CONVERTERS:
        available = ", ".join(sorted(_CONVERTERS)) or "none yet"
        raise ValueError(
            f"{where} is a transformers checkpoint with model_type {model_type!r}, which zoo "
            f"cannot convert (converters available: {available}).")
    return _CONVERTERS[model_type]


def checkpoint_files(model_type=None):
    """The component files (tokenizer files, ...) a transformers checkpoint of
    ``model_type`` may need; for an unknown model_type, those of every converter."""
    try:
        chosen = [get_converter(model_type)]
    except ValueError:
        chosen = list(_CONVERTERS.values())
    files = set()
    for converter in chosen:
        files |= converter.checkpoint_files()
    return files
