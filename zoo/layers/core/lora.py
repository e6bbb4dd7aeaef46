"""LoRA (low-rank adaptation, Hu et al. 2021) shared by Dense, EinsumDense and Embedding.

``layer.enable_lora(rank)`` freezes the layer's weight W (``kernel`` or ``embeddings``) and
adds two trainable factors, ``a`` (in, rank) and ``b`` (rank, out), initialized so that
``a @ b`` starts at zero. The layer then computes with W + (a @ b) * alpha / rank; the
layers do it as x @ W + ((x @ a) @ b) * scale, so no full-size delta is ever built in a
training step. ``merged_items(model)`` and ``strip_config(spec)`` give ``save_to_preset``
the plain model: merged weights, no adapters, no LoRA entries in the config.
"""
import numpy as np

from zoo import ops
from zoo.layers import initializers

CONFIG_KEYS = ("lora_rank", "lora_alpha", "lora_target_names")


class LoraMixin:
    """Adds ``enable_lora`` to a layer that defines ``_lora_target`` (the name of the
    frozen weight), ``_lora_names`` (names of the two factors), ``_lora_shapes(rank)``
    and ``_lora_delta(a, b)`` (the full-size a @ b in the weight's shape)."""

    lora_rank = None
    lora_alpha = None

    @property
    def lora_enabled(self):
        return bool(self.lora_rank)

    def enable_lora(self, rank, a_initializer="he_uniform", b_initializer="zeros", alpha=None):
        """Freeze the weight and add trainable low-rank factors (see zoo/layers/core/lora.py)."""
        kind = type(self).__name__
        if self.lora_rank:
            raise ValueError(f"{kind} layer '{self.name}': LoRA is already enabled (rank "
                             f"{self.lora_rank}); enable_lora can be called only once.")
        if not self.built:
            raise ValueError(f"{kind} layer '{self.name}': cannot enable LoRA on a layer that "
                             f"is not built yet; call it on data (or build it) first.")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1:
            raise ValueError(f"{kind} layer '{self.name}': LoRA rank must be a positive "
                             f"integer, got {rank!r}.")
        if alpha is not None and (isinstance(alpha, bool) or not float(alpha) > 0):
            raise ValueError(f"{kind} layer '{self.name}': lora alpha must be a positive "
                             f"number, got {alpha!r}.")
        rank = int(rank)
        target = getattr(self, self._lora_target)
        a_shape, b_shape = self._lora_shapes(rank)
        a_name, b_name = self._lora_names
        a = self.add_weight(a_shape, initializers.get(a_initializer), name=a_name)
        b = self.add_weight(b_shape, initializers.get(b_initializer), name=b_name)
        prefix = target.path.rsplit("/", 1)[0] + "/" if "/" in target.path else ""
        a.path, b.path = prefix + a_name, prefix + b_name  # next to the weight they adapt
        target.trainable = False
        self._lora_a, self._lora_b = a, b
        self.lora_rank = rank
        self.lora_alpha = float(alpha) if alpha is not None else float(rank)

    @property
    def _lora_scale(self):
        return self.lora_alpha / self.lora_rank

    def _lora_config(self):
        """Config entries for LoRA (enabled, or asked for by the config of a layer not built
        yet); nothing when LoRA is off."""
        rank, alpha = (self.lora_rank, self.lora_alpha) if self.lora_rank else \
            (self.__dict__.get("_pending_lora") or (None, None))
        if not rank:
            return {}
        config = {"lora_rank": rank}
        if alpha is not None and float(alpha) != rank:
            config["lora_alpha"] = float(alpha)
        return config

    def _enable_lora_from_config(self):
        """Called at the end of ``build`` when the config asked for LoRA."""
        rank, alpha = self._pending_lora
        self._pending_lora = None
        if rank:
            self.enable_lora(rank, alpha=alpha)

    def lora_merged_weight(self):
        """NumPy value of W + (a @ b) * scale, in W's dtype (the weight a plain layer has)."""
        target = getattr(self, self._lora_target)
        delta = self._lora_delta(self._lora_a.value, self._lora_b.value)
        merged = ops.add(ops.cast(target.value, "float32"),
                         ops.multiply(ops.cast(delta, "float32"), self._lora_scale))
        return ops.convert_to_numpy(ops.cast(merged, target.dtype))


def init_lora(layer, lora_rank, lora_alpha):
    """Record constructor arguments ``lora_rank`` / ``lora_alpha`` for ``build``."""
    if lora_rank is not None and (isinstance(lora_rank, bool) or int(lora_rank) < 1):
        raise ValueError(f"{type(layer).__name__} layer '{layer.name}': lora_rank must be a "
                         f"positive integer or None, got {lora_rank!r}.")
    layer._pending_lora = (int(lora_rank) if lora_rank else None, lora_alpha)


class _Merged:
    """A merged weight as ``write_variables_file`` reads it (numpy(), size, dtype)."""

    def __init__(self, variable, array):
        self.path, self.name, self.dtype = variable.path, variable.name, variable.dtype
        self._array = array

    @property
    def size(self):
        return int(self._array.size)

    @property
    def shape(self):
        return tuple(self._array.shape)

    def numpy(self):
        return self._array


def lora_layers(model):
    """The layers of ``model`` (itself included) with LoRA enabled."""
    return [layer for layer in model._flatten_layers()
            if isinstance(layer, LoraMixin) and layer.lora_rank]


def adapter_size(model):
    """Number of values in the LoRA adapters of ``model``."""
    return sum(layer._lora_a.size + layer._lora_b.size for layer in lora_layers(model))


def merged_items(model):
    """``model.variable_paths()`` items with LoRA folded in: each adapted weight replaced by
    its merged value, the adapters dropped. The model itself is not changed."""
    items = list(model.variable_paths().items())
    layers = lora_layers(model)
    if not layers:
        return items
    merged, drop = {}, set()
    for layer in layers:
        target = getattr(layer, layer._lora_target)
        merged[id(target)] = _Merged(target, layer.lora_merged_weight())
        drop.update((id(layer._lora_a), id(layer._lora_b)))
    return [(path, merged.get(id(v), v)) for path, v in items if id(v) not in drop]


def strip_config(config):
    """A copy of a (nested) config with every LoRA entry removed."""
    if isinstance(config, dict):
        return {k: strip_config(v) for k, v in config.items() if k not in CONFIG_KEYS}
    if isinstance(config, list):
        return [strip_config(v) for v in config]
    return config
