"""ZooPresetLoader: a zoo preset directory (preset_format.py); every file is checked against
metadata.json before use.

Which class comes back (``cls`` is the class whose ``from_preset`` was called):
  - the declared class is ``cls`` or a subclass (``zoo.Model`` accepts every preset);
  - ``cls`` is a Task and the preset holds a backbone of ``cls.backbone_cls`` (a backbone
    preset, or another task's): that backbone with its weights, plus a fresh head;
  - ``cls`` is a Backbone and the preset is a Task whose backbone is a ``cls``: the backbone.
"""
import os
import warnings

from zoo.hub import preset_format as fmt
from zoo.hub.loaders import classes
from zoo.hub.loaders.base import ModelPlan, PresetLoader, apply_overrides, describe, \
    split_overrides
from zoo.hub.preset_format import PresetError
from zoo.saving import serialization

BACKBONE_CONFIG = f"{fmt.CONFIG} (its 'backbone')"
METADATA_NAME = fmt.METADATA

# How a plan's weights sit in the preset's files (ModelPlan.mode).
WHOLE = "whole"                        # the file holds exactly the model built
WHOLE_TASK = "whole_task"              # a task preset loaded as a task: backbone + head
BACKBONE_OF_TASK = "backbone_of_task"  # the backbone's variables under the task's prefix


class ZooPresetLoader(PresetLoader):
    kind = "zoo preset"

    def __init__(self, path, handle, allow_pickle=False):
        super().__init__(path, handle, allow_pickle)
        self.preset = fmt.Preset(path, handle)

    @classmethod
    def claims(cls, path):
        return os.path.isdir(path) and fmt.is_preset_dir(path)

    @property
    def source_text(self):
        return self.preset.metadata.get("source") or str(self.handle)

    def read_spec(self, filename):
        spec = self.preset.json(filename)
        if not isinstance(spec, dict) or "class_name" not in spec \
                or not isinstance(spec.get("config", {}), dict):
            raise PresetError(f"{self.label}: {filename} must hold {{\"class_name\": ..., "
                              f"\"config\": {{...}}}}.")
        if serialization.contains_code(spec):
            raise PresetError(f"{self.label}: {filename} carries Python code (a marshalled "
                              f"function); zoo never runs code from a preset. Nothing was "
                              f"built.")
        return spec

    # -- models -----------------------------------------------------------------------------
    def plan_model(self, cls, overrides):
        spec = self.read_spec(fmt.CONFIG)
        root = classes.family_root(cls)
        declared = classes.find_class(spec["class_name"], root, self.label, fmt.CONFIG)
        config = spec.get("config", {})
        holds_task = classes.is_task(declared) and isinstance(config.get("backbone"), dict)
        if issubclass(declared, cls):
            if holds_task:
                return self._task_plan(declared, spec, overrides, root)
            return ModelPlan(declared, apply_overrides(config, overrides, declared, self.label),
                             fmt.CONFIG, build_spec=spec.get("build"), build_target="backbone",
                             mode=WHOLE)
        if classes.is_task(cls) and cls.backbone_cls is not None:
            backbone_cls = self._backbone_class(config, root) if holds_task else declared
            if issubclass(backbone_cls, cls.backbone_cls):
                return self._fresh_head_plan(cls, spec, holds_task, backbone_cls, overrides)
        if classes.role(cls) == classes.BACKBONE and holds_task:
            backbone_cls = self._backbone_class(config, root)
            if issubclass(backbone_cls, cls):
                backbone_config = apply_overrides(config["backbone"].get("config", {}),
                                                  overrides, backbone_cls, self.label)
                return ModelPlan(backbone_cls, backbone_config, BACKBONE_CONFIG,
                                 mode=BACKBONE_OF_TASK)
        raise classes.wrong_class(self.label, declared, cls)

    def _backbone_class(self, task_config, root):
        return classes.find_class(task_config["backbone"].get("class_name"), root, self.label,
                                  BACKBONE_CONFIG)

    def _task_plan(self, declared, spec, overrides, root):
        """A task preset loaded as its own class: backbone, preprocessor, head."""
        config = spec["config"]
        head = {k: v for k, v in config.items() if k not in ("backbone", "preprocessor")}
        head_keys = set(head) | classes.head_parameters(declared)
        backbone_config = config["backbone"].get("config", {})
        head_overrides, backbone_overrides = split_overrides(
            overrides, head_keys, backbone_config, self.label, declared)
        backbone_config = {**backbone_config, **backbone_overrides}
        return ModelPlan(self._backbone_class(config, root), backbone_config, BACKBONE_CONFIG,
                         task_cls=declared, head_config=head, head_overrides=head_overrides,
                         build_spec=spec.get("build"), build_target="task", mode=WHOLE_TASK)

    def _fresh_head_plan(self, cls, spec, holds_task, backbone_cls, overrides):
        """A Task class loaded from a preset that holds its backbone: the backbone with
        weights, a fresh head built from ``overrides``."""
        config = spec["config"]
        backbone_config = config["backbone"].get("config", {}) if holds_task else config
        head_overrides, backbone_overrides = split_overrides(
            overrides, classes.head_parameters(cls), backbone_config, self.label, cls)
        backbone_config = {**backbone_config, **backbone_overrides}
        if holds_task:
            return ModelPlan(backbone_cls, backbone_config, BACKBONE_CONFIG, task_cls=cls,
                             head_overrides=head_overrides, mode=BACKBONE_OF_TASK)
        return ModelPlan(backbone_cls, backbone_config, fmt.CONFIG, task_cls=cls,
                         head_overrides=head_overrides, build_spec=spec.get("build"),
                         build_target="backbone", mode=WHOLE)

    def task_preprocessor(self, task_cls):
        pre_cls = getattr(task_cls, "preprocessor_cls", None)
        if pre_cls is None:
            return None
        if not (self.preset.has(fmt.PREPROCESSOR) or self.preset.components):
            return None
        return self.load_preprocessor(pre_cls, {})

    # -- preprocessing components and preprocessors -------------------------------------------
    def load_component(self, cls, overrides):
        """A tokenizer / audio converter / image converter (``cls.preset_kind``) from
        ``<kind>.json`` + ``assets/<kind>/``."""
        kind = cls.preset_kind
        layout = self.preset.components.get(kind)
        if layout is None:
            raise PresetError(f"{self.label} has no {kind} ({METADATA_NAME} lists no {kind!r} "
                              f"component).")
        spec = self.read_spec(layout["config"])
        declared = classes.find_class(spec["class_name"], classes.family_root(cls),
                                      self.label, layout["config"])
        if not issubclass(declared, cls):
            raise classes.wrong_class(f"{self.label} ({layout['config']})", declared, cls)
        config = apply_overrides(spec.get("config", {}), overrides, declared, self.label)
        try:
            component = declared.from_config(config)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{self.label}: cannot build {declared.__name__} from "
                              f"{layout['config']}: {error}") from error
        for name in self.preset.files_under(layout["assets"]):
            self.preset.path(name)  # verify every asset before the component reads them
        component.load_assets(os.path.join(self.preset.directory, *layout["assets"].split("/")))
        return component

    def load_preprocessor(self, cls, overrides):
        """Its components from their files, its options from preprocessor.json (if any) and
        ``overrides``."""
        generic = classes.is_generic(cls)
        if self.preset.has(fmt.PREPROCESSOR):
            spec = self.read_spec(fmt.PREPROCESSOR)
            declared = classes.find_class(spec["class_name"], cls, self.label,
                                          fmt.PREPROCESSOR)
            config = dict(spec.get("config", {}))
            if declared is not cls and not generic:
                # e.g. BertMaskedLMPreprocessor.from_preset on a classifier preset, or a
                # classifier's BertPreprocessor from a masked-LM preset: the class asked for
                # is built; the components carry over, options it does not take are dropped.
                accepted = classes.named_parameters(cls)
                config = {k: v for k, v in config.items() if k in accepted}
                declared = cls
        elif generic:
            raise PresetError(f"{self.label} has no {fmt.PREPROCESSOR}; load it with an "
                              f"architecture's preprocessor class.")
        else:
            declared, config = cls, {}
        components = {kind: self.load_component(component_cls, {})
                      for kind, component_cls in declared.component_classes().items()}
        for kind in components:
            config.pop(kind, None)
        config = apply_overrides(config, overrides, declared, self.label)
        try:
            return declared(**components, **config)
        except TypeError as error:
            raise TypeError(f"{self.label}: cannot build {declared.__name__}: {error}") \
                from error

    # -- weights ----------------------------------------------------------------------------
    def port_backbone(self, backbone, plan):
        if plan.mode == WHOLE:
            self._load(backbone.variable_paths(), describe(backbone))
        elif plan.mode == BACKBONE_OF_TASK:
            files, entries = self._file_entries()
            paths = backbone.variable_paths()
            prefix = self._prefix_of(paths, entries)
            self._load({prefix + p: v for p, v in paths.items()}, describe(backbone),
                       allow_unexpected=True, entries=entries, files=files)

    def port_task(self, task, plan, rebuild):
        if plan.mode != WHOLE_TASK:
            return task  # a fresh head
        files, entries = self._file_entries()
        variables = task.variable_paths()
        if plan.head_overrides:
            variables = self._drop_resized_head(task, variables, entries)
        self._load(variables, describe(task), allow_unexpected=bool(plan.head_overrides),
                   entries=entries, files=files)
        return task

    def _weight_files(self):
        """[(local path, display)] of the preset's weights, every file checksum-verified."""
        preset = self.preset
        if preset.has(fmt.WEIGHTS_INDEX):
            index = preset.json(fmt.WEIGHTS_INDEX)
            weight_map = index.get("weight_map") if isinstance(index, dict) else None
            if not isinstance(weight_map, dict) or not weight_map:
                raise PresetError(f"{self.label}: {fmt.WEIGHTS_INDEX} has no 'weight_map'.")
            names = list(dict.fromkeys(weight_map.values()))
            files = [(preset.path(name), f"{self.handle}/{name}") for name in names]
            return files, weight_map, names
        return ([(preset.path(fmt.WEIGHTS), f"{self.handle}/{fmt.WEIGHTS}")], None,
                [fmt.WEIGHTS])

    def _file_entries(self):
        from zoo.saving import weights

        files, weight_map, names = self._weight_files()
        entries = weights.read_entries(files)
        if weight_map is not None:
            wrong = sorted(k for k in set(weight_map) | set(entries)
                           if k not in entries or k not in weight_map
                           or names[entries[k][3]] != weight_map[k])
            if wrong:
                raise PresetError(f"{self.label}: {fmt.WEIGHTS_INDEX} does not match its "
                                  f"shards (e.g. {wrong[:5]}).")
        return files, entries

    def _load(self, variables, description, allow_unexpected=False, entries=None, files=None):
        from zoo.saving import weights

        if entries is None:
            files, entries = self._file_entries()
        # Random-stream states (a Dropout's seed generator) are not weights: an override
        # such as dropout=0.0 adds or removes them, and either side may lack them.
        variables = {k: v for k, v in variables.items() if k in entries or not _is_rng(k)}
        entries = {k: e for k, e in entries.items() if k in variables or not _is_rng(k)}
        weights.load_variables(variables, files, description,
                               allow_unexpected=allow_unexpected, entries=entries,
                               display=f"{self.label} weights")

    def _prefix_of(self, backbone_paths, entries):
        """The path prefix under which a task preset stores its backbone's variables."""
        first = next(iter(backbone_paths), None)
        if first is None:
            return ""
        candidates = sorted((k[: -len(first)] for k in entries
                             if k == first or k.endswith("/" + first)), key=len)
        for prefix in candidates:
            if all(prefix + p in entries for p in backbone_paths):
                return prefix
        raise PresetError(f"{self.label}: the weights do not hold this backbone's variables "
                          f"under any prefix (looked for {first!r}).")

    def _drop_resized_head(self, task, variables, entries):
        """With head overrides (e.g. num_classes), head variables whose shape no longer
        matches the file start fresh instead of failing."""
        backbone_ids = {id(v) for v in task.backbone.variables}
        fresh = [p for p, v in variables.items() if id(v) not in backbone_ids and p in entries
                 and tuple(v.shape) != entries[p][0]]
        if fresh:
            warnings.warn(f"{self.label}: the overridden {type(task).__name__} head does not "
                          f"match the saved one; freshly initialized: {', '.join(fresh)}",
                          stacklevel=5)
        return {p: v for p, v in variables.items() if p not in fresh}


def _is_rng(path):
    return path.rsplit("/", 1)[-1].endswith("seed_generator_state")
