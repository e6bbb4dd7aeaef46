"""Backbone: the base of every architecture's headless model (BertBackbone, OPTBackbone, ...).

A backbone is a functional model whose ``get_config()`` rebuilds it exactly; tasks
(classifiers, language-model heads) wrap one as ``task.backbone``.

``backbone.enable_lora(rank)`` (KerasHub's API) freezes every weight of the backbone and
adds LoRA adapters to the layers named in ``target_names`` (the attention's ``query`` and
``value`` projections by default): only the adapters train afterwards. The LoRA settings
join the backbone's config (``lora_rank``, ``lora_alpha``, ``lora_target_names``), so
``save``/``load_model`` and ``save_weights``/``load_weights`` keep the adapters;
``save_to_preset`` writes a plain model instead (adapters merged into the kernels).
"""
from zoo.engine.model import Model, constructor_arguments
from zoo.layers.core import lora

DEFAULT_LORA_TARGETS = ("query", "value")


class Backbone(Model):
    """Headless model of one architecture; ``from_preset`` also accepts a task preset and
    returns that task's backbone."""

    preset_role = "backbone"  # zoo/hub/loaders/classes.py: loads from a task preset too

    def get_config(self):
        """The constructor's arguments (as the backbone stored them, defaults included;
        ``dtype`` only when not float32) plus the LoRA settings once enabled: a backbone's
        config is data that rebuilds it, with nothing for each architecture to write."""
        config = {"name": self.name, "trainable": self.trainable}
        for key, value in constructor_arguments(self, apply_defaults=True).items():
            if key not in config and key != "dtype":
                config[key] = getattr(self, key, value)
        if self.dtype_policy.name != "float32":
            config["dtype"] = self.dtype_policy.name
        return {**config, **self.__dict__.get("_lora_settings", {})}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        settings = {k: config.pop(k) for k in lora.CONFIG_KEYS if k in config}
        model = cls(**config)
        if settings.get("lora_rank"):
            model.enable_lora(settings["lora_rank"],
                              target_names=settings.get("lora_target_names",
                                                        DEFAULT_LORA_TARGETS),
                              alpha=settings.get("lora_alpha"))
        return model

    @property
    def lora_rank(self):
        """The rank given to ``enable_lora``, or None."""
        settings = self.__dict__.get("_lora_settings")
        return settings["lora_rank"] if settings else None

    def enable_lora(self, rank, target_names=DEFAULT_LORA_TARGETS, alpha=None):
        """Freeze every weight, then add rank-``rank`` adapters to each layer whose name is in
        ``target_names``; afterwards only the adapters are trainable.

        Call it before ``compile``/``fit`` (an optimizer already built for the full model
        must be compiled again)."""
        where = f"{type(self).__name__} '{self.name}'"
        if self.__dict__.get("_lora_settings"):
            raise ValueError(f"{where}: LoRA is already enabled (rank {self.lora_rank}); "
                             f"enable_lora can be called only once.")
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"{where}: LoRA rank must be a positive integer, got {rank!r}.")
        if isinstance(target_names, str):
            target_names = (target_names,)
        target_names = tuple(target_names)
        targets = [layer for layer in self._flatten_layers(include_self=False)
                   if layer.name in target_names]
        adaptable = [layer for layer in targets if hasattr(layer, "enable_lora")]
        if not adaptable:
            names = sorted({layer.name for layer in self._flatten_layers(include_self=False)})
            raise ValueError(f"{where}: no layer named {list(target_names)} supports LoRA "
                             f"(layer names: {names}).")
        unsupported = [layer.name for layer in targets if layer not in adaptable]
        if unsupported:
            raise ValueError(f"{where}: layers {unsupported} in target_names do not support "
                             f"LoRA (Dense, EinsumDense and Embedding do).")
        if any(layer.lora_rank for layer in adaptable):
            raise ValueError(f"{where}: some target layers already have LoRA enabled.")
        self.trainable = True
        for variable in self.variables:
            variable.trainable = False
        for layer in adaptable:
            layer.enable_lora(rank, alpha=alpha)
        settings = {"lora_rank": int(rank), "lora_target_names": list(target_names)}
        if alpha is not None:
            settings["lora_alpha"] = float(alpha)
        self._lora_settings = settings

    @classmethod
    def layout_rules(cls, model_axis):
        """``{regex over variable paths: axes}`` for ``get_layout_map``. The default names
        nothing, so every weight is replicated: an architecture states how its own weights
        split (the transformer blocks' rules: zoo.layers.transformer.tensor_parallel_rules).
        """
        return {}

    @classmethod
    def get_layout_map(cls, device_mesh, model_axis="model", batch_axis="batch"):
        """A ``zoo.distribution.LayoutMap`` that splits this architecture's weights over
        ``device_mesh``'s ``model_axis`` (see ``layout_rules``); ``ModelParallel`` splits
        batches over ``batch_axis``."""
        from zoo.distribution import LayoutMap

        for axis in (model_axis, batch_axis):
            device_mesh.axis_size(axis)  # an unknown axis name is an error here
        layout_map = LayoutMap(device_mesh, batch_dim_name=batch_axis)
        for key, axes in cls.layout_rules(model_axis).items():
            layout_map[key] = axes
        return layout_map
