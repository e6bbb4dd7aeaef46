"""The Pipeline base class and ``zoo.pipeline(task, preset=...)``."""
import difflib

import numpy as np

TASKS = {}  # task name -> Pipeline subclass


def register_pipeline(task):
    def decorator(cls):
        cls.task = task
        TASKS[task] = cls
        return cls

    return decorator


def pipeline(task, preset=None, model=None, **kwargs):
    """A pipeline for ``task`` over ``preset`` (any preset handle) or an in-memory ``model``
    (a task model with its preprocessor attached)."""
    if task not in TASKS:
        close = difflib.get_close_matches(task, TASKS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown pipeline task {task!r}.{hint} Available: "
                         f"{', '.join(sorted(TASKS))}.")
    if (preset is None) == (model is None):
        raise ValueError(f"pipeline({task!r}) needs exactly one of preset= or model=.")
    cls = TASKS[task]
    if model is None:
        model, kwargs["preprocessor"] = cls.load(preset)
    return cls(model, **kwargs)


def task_classes(tag):
    """Every zoo.models Task subclass whose ``pipeline_tag`` is ``tag``."""
    import zoo.models  # noqa: F401  (imports the architectures)
    from zoo.models.task import Task

    found, stack = [], [Task]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(cls, "pipeline_tag", None) == tag:
            found.append(cls)
    return found


def load_task_model(preset, tag):
    """The preset as a task model for pipeline ``tag``: a task preset of that kind as is; a
    backbone preset loaded through the task class for its architecture when that task's
    head comes with the checkpoint (fill-mask on a converted BERT checkpoint)."""
    import zoo

    model = zoo.Model.from_preset(preset)
    if getattr(type(model), "pipeline_tag", None) == tag:
        return model
    for cls in task_classes(tag):
        if isinstance(model, cls.backbone_cls) and getattr(cls, "head_from_backbone", False):
            return cls.from_preset(preset)  # a converted checkpoint brings its head
    raise ValueError(f"Preset {preset!r} holds a {type(model).__name__}, which cannot run "
                     f"the {tag!r} pipeline (it needs a model with a {tag} head; fine-tune "
                     f"one and save it with save_to_preset).")


class Pipeline:
    task = None
    batch_size = 8

    def __init__(self, model, preprocessor=None, batch_size=None):
        self.model = model
        self.preprocessor = preprocessor or getattr(model, "preprocessor", None)
        if self.preprocessor is None:
            raise ValueError(f"The {self.task!r} pipeline needs a model with a preprocessor "
                             f"attached (load it with from_preset).")
        if batch_size is not None:
            self.batch_size = int(batch_size)

    @classmethod
    def load(cls, preset):
        """-> (model, preprocessor) for ``preset``."""
        model = load_task_model(preset, cls.task)
        return model, model.preprocessor

    def is_single(self, inputs):
        """Whether ``inputs`` is one input (a text, a (text, pair) tuple) or a batch."""
        return isinstance(inputs, (str, tuple))

    def __call__(self, inputs, **kwargs):
        single = self.is_single(inputs)
        items = [inputs] if single else list(inputs)
        results = []
        for start in range(0, len(items), self.batch_size):
            results.extend(self.run_batch(items[start:start + self.batch_size], **kwargs))
        return results[0] if single else results

    def run_batch(self, items, **kwargs):
        raise NotImplementedError


def trim_padding(x, multiple=16):
    """Cut the columns every row pads (rounded up to ``multiple``: few distinct shapes, so
    compiled backends compile few times)."""
    length = int(np.max(np.sum(x["padding_mask"], axis=1))) if len(x["padding_mask"]) else 1
    length = min(x["padding_mask"].shape[1], -(-max(length, 1) // multiple) * multiple)
    return {k: v[:, :length] if k in ("token_ids", "segment_ids", "padding_mask") else v
            for k, v in x.items()}


def softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)
