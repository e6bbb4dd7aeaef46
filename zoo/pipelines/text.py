"""Text pipelines: feature-extraction, text-classification, fill-mask, text-generation."""
import numpy as np

from zoo import ops
from zoo.pipelines.base import Pipeline, register_pipeline, softmax, trim_padding


def _numpy(tree):
    if isinstance(tree, dict):
        return {k: _numpy(v) for k, v in tree.items()}
    return np.asarray(ops.convert_to_numpy(tree))


def _encode(preprocessor, items):
    packed, _ = preprocessor.preprocess(list(items))
    return trim_padding(packed)


@register_pipeline("feature-extraction")
class FeatureExtractionPipeline(Pipeline):
    """Strings -> per-token hidden states, one (tokens, hidden) array per input."""

    @classmethod
    def load(cls, preset):
        import zoo

        model = zoo.Model.from_preset(preset)
        backbone = getattr(model, "backbone", model)
        preprocessor = getattr(model, "preprocessor", None)
        if preprocessor is None:
            preprocessor = _preprocessor_for(backbone).from_preset(preset)
        return backbone, preprocessor

    def run_batch(self, items):
        x = _encode(self.preprocessor, items)
        outputs = _numpy(self.model(x))
        sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
        lengths = x["padding_mask"].sum(axis=1)
        return [sequence[i, :lengths[i]] for i in range(len(items))]


def _preprocessor_for(backbone):
    from zoo.pipelines.base import task_classes

    for tag in ("feature-extraction", "text-classification", "fill-mask"):
        for cls in task_classes(tag):
            if isinstance(backbone, cls.backbone_cls) and cls.preprocessor_cls is not None:
                return cls.preprocessor_cls
    raise ValueError(f"No preprocessor is known for {type(backbone).__name__}.")


@register_pipeline("text-classification")
class TextClassificationPipeline(Pipeline):
    """Strings (or (a, b) pairs) -> [{"label", "score"}] sorted by score, ``top_k`` of them
    (default 1). ``labels`` names the classes (default LABEL_0, LABEL_1, ...)."""

    def __init__(self, model, preprocessor=None, labels=None, batch_size=None):
        super().__init__(model, preprocessor, batch_size)
        classes = int(getattr(model, "num_classes", 0) or model.outputs[0].shape[-1])
        self.labels = list(labels) if labels is not None else [f"LABEL_{i}"
                                                             for i in range(classes)]
        if len(self.labels) != classes:
            raise ValueError(f"labels has {len(self.labels)} names for a model with "
                             f"{classes} classes.")

    def run_batch(self, items, top_k=1):
        x = _encode(self.preprocessor, items)
        scores = _numpy(self.model(x)).astype("float64")
        if getattr(self.model, "activation", None) in (None, "linear"):
            scores = softmax(scores)
        results = []
        for row in scores:
            order = np.argsort(-row)[:top_k]
            results.append([{"label": self.labels[i], "score": float(row[i])} for i in order])
        return results


@register_pipeline("fill-mask")
class FillMaskPipeline(Pipeline):
    """Strings with one mask token (e.g. "[MASK]") -> the ``top_k`` (default 5) fillers:
    [{"score", "token", "token_str", "sequence"}]."""

    def run_batch(self, items, top_k=5):
        tokenizer = self.preprocessor.tokenizer
        mask_id = tokenizer.mask_token_id
        mask_token = tokenizer.id_to_token(mask_id)
        x = _encode(self.preprocessor, items)
        positions = []
        for i, text in enumerate(items):
            found = np.flatnonzero(x["token_ids"][i] == mask_id)
            if len(found) != 1:
                raise ValueError(f"fill-mask: input {i} ({text!r}) must contain exactly one "
                                 f"{mask_token} token; found {len(found)}.")
            positions.append(found[0])
        x["mask_positions"] = np.asarray(positions, "int32")[:, None]
        probs = softmax(_numpy(self.model(x))[:, 0].astype("float64"))
        results = []
        for i, row in enumerate(probs):
            order = np.argsort(-row)[:top_k]
            candidates = []
            for token_id in order:
                ids = x["token_ids"][i][:int(x["padding_mask"][i].sum())].copy()
                ids[positions[i]] = token_id
                candidates.append({"score": float(row[token_id]), "token": int(token_id),
                                   "token_str": tokenizer.id_to_token(int(token_id)),
                                   "sequence": tokenizer.detokenize(ids.tolist(),
                                                                    skip_special_tokens=True)})
            results.append(candidates)
        return results


def _sampler_from_hf_options(sampler, do_sample, top_k, top_p, temperature, num_beams):
    """transformers' generate options -> a zoo sampler (``sampler=`` wins when given)."""
    from zoo.models import samplers

    if sampler is not None:
        return samplers.get(sampler)
    if num_beams and int(num_beams) > 1:
        return samplers.BeamSampler(num_beams=int(num_beams))
    if not do_sample:
        return samplers.GreedySampler()
    temperature = 1.0 if temperature is None else temperature
    if top_p is not None and top_p < 1.0:
        return samplers.TopPSampler(p=top_p, k=top_k, temperature=temperature)
    if top_k:
        return samplers.TopKSampler(k=top_k, temperature=temperature)
    return samplers.RandomSampler(temperature=temperature)


@register_pipeline("text-generation")
class TextGenerationPipeline(Pipeline):
    """Prompts -> [{"generated_text": prompt + continuation}] per prompt (transformers'
    format). Options: ``max_new_tokens`` (default 32) or ``max_length``; ``sampler`` (a zoo
    sampler or name) or transformers' ``do_sample``/``top_k``/``top_p``/``temperature``/
    ``num_beams``; ``seed``; ``prompt_lookup_num_tokens`` (greedy: fewer passes where the
    output repeats the prompt); ``return_full_text=False`` drops the prompt."""

    def run_batch(self, items, max_new_tokens=None, max_length=None, sampler=None,
                  do_sample=False, top_k=None, top_p=None, temperature=None, num_beams=None,
                  seed=None, return_full_text=True, stop_token_ids="auto",
                  prompt_lookup_num_tokens=None):
        if max_new_tokens is None and max_length is None:
            max_new_tokens = 32
        chosen = _sampler_from_hf_options(sampler, do_sample, top_k, top_p, temperature,
                                          num_beams)
        texts = self.model.generate(list(items), max_length=max_length,
                                    max_new_tokens=max_new_tokens, sampler=chosen,
                                    stop_token_ids=stop_token_ids, seed=seed,
                                    prompt_lookup_num_tokens=prompt_lookup_num_tokens)
        results = []
        for prompt, text in zip(items, texts):
            if not return_full_text:
                text = text[len(prompt):] if text.startswith(prompt) else text
            results.append([{"generated_text": text}])
        return results
