"""TransformersLoader: a Hugging Face transformers checkpoint (config.json with
``model_type``, safetensors weights), converted by the converter its architecture registered
for that ``model_type`` (zoo/hub/converters.py)."""
import os

from zoo.hub import converters
from zoo.hub import preset_format as fmt
from zoo.hub.loaders import classes
from zoo.hub.loaders.checkpoint import CheckpointLoader

MAX_PACKED_LENGTH = 512  # a converted preprocessor packs at most this many positions


class TransformersLoader(CheckpointLoader):
    kind = "transformers checkpoint"

    def __init__(self, path, handle, allow_pickle=False):
        super().__init__(path, handle, allow_pickle)
        self.hf_config = fmt.read_json(os.path.join(path, fmt.CONFIG), self.label)
        self.model_type = self.hf_config["model_type"]
        self.converter = converters.get_converter(self.model_type, self.label)

    @classmethod
    def claims(cls, path):
        return os.path.isdir(path) and fmt.is_transformers_dir(path)

    @property
    def description(self):
        return f"a transformers {self.model_type!r} checkpoint"

    @property
    def source_text(self):
        return (f"{self.handle} (transformers checkpoint, model_type {self.model_type!r}, "
                f"converted by zoo)")

    def backbone_class(self):
        return self.converter.backbone_class()

    def backbone_config(self):
        return self.converter.backbone_config(dict(self.hf_config))

    def saved_task(self):
        task_cls = self.converter.task_for(self.hf_config)
        if task_cls is None:
            return None
        head = {}
        if self.converter.task_config is not None:
            head.update(self.converter.task_config(self.path, task_cls))
        labels = self.hf_config.get("id2label")
        if "num_classes" in classes.named_parameters(task_cls) and isinstance(labels, dict):
            head["num_classes"] = len(labels)
        return task_cls, head

    def read_weights(self):
        from zoo.hub.checkpoint_reader import CheckpointReader

        return CheckpointReader(self.path, allow_pickle=self.allow_pickle)

    def port_backbone_weights(self, backbone, reader):
        self.converter.load_backbone(backbone, reader)

    def head_porter(self, task_cls):
        return self.converter.head_loader(task_cls)

    def make_component(self, kind, cls):
        make = self.converter.components.get(kind)
        return make(self.path, cls) if make is not None else None

    def preprocessor_options(self, pre_cls):
        """A converted checkpoint's preprocessor packs at most the positions the model has."""
        if "sequence_length" not in classes.named_parameters(pre_cls):
            return {}
        positions = self.hf_config.get("max_position_embeddings")
        if not isinstance(positions, int):
            return {}
        return {"sequence_length": min(MAX_PACKED_LENGTH, int(positions))}
