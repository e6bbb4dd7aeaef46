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
import functools

from zoo.engine.model import Model
from zoo.layers.core import lora

DEFAULT_LORA_TARGETS = ("query", "value")


def _config_with_lora(get_config):
    @functools.wraps(get_config)
    def wrapped(self):
        config = get_config(self)
        settings = self.__dict__.get("_lora_settings")
        if settings:
            config = {**config, **settings}
        return config

    wrapped._adds_lora = True
    return wrapped


def _from_config_with_lora(from_config):
    @functools.wraps(from_config)
    def wrapped(cls, config, *args, **kwargs):
        config = dict(config)
        settings = {k: config.pop(k) for k in lora.CONFIG_KEYS if k in config}
        model = from_config(cls, config, *args, **kwargs)
        if settings.get("lora_rank"):
            model.enable_lora(settings["lora_rank"],
                              target_names=settings.get("lora_target_names",
                                                        DEFAULT_LORA_TARGETS),
                              alpha=settings.get("lora_alpha"))
        return model

    wrapped._adds_lora = True
    return classmethod(wrapped)


class Backbone(Model):
    """Headless model of one architecture; ``from_preset`` also accepts a task preset and
    returns that task's backbone."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # every backbone's own get_config / from_config carries the LoRA settings
        if not getattr(cls.get_config, "_adds_lora", False):
            cls.get_config = _config_with_lora(cls.get_config)
        if not getattr(cls.from_config, "_adds_lora", False):
            cls.from_config = _from_config_with_lora(cls.from_config.__func__)

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
