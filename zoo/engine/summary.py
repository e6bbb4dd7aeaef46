"""``model.summary()``: one row per layer with output shape and parameter count."""


def _fmt_shape(layer):
    nodes = getattr(layer, "_inbound_nodes", [])
    if nodes:
        shapes = [t.shape for t in nodes[-1].output_tensors]
        return ", ".join(str(s) for s in shapes)
    return "?"


def summary_text(model, line_length=88):
    cols = (int(line_length * 0.42), int(line_length * 0.38), line_length - int(line_length * 0.8))
    rule = "-" * line_length
    lines = [f'Model: "{model.name}"', "=" * line_length,
             f"{'Layer (type)':<{cols[0]}}{'Output shape':<{cols[1]}}{'Params':>{cols[2]}}", rule]
    for key, layer in model._layers.items():
        label = f"{key} ({type(layer).__name__})"
        lines.append(f"{label:<{cols[0]}}{_fmt_shape(layer):<{cols[1]}}"
                     f"{layer.count_params():>{cols[2]},}")
    trainable = sum(v.size for v in model.trainable_variables)
    non_trainable = sum(v.size for v in model.non_trainable_variables)
    lines += ["=" * line_length,
              f"Total params: {trainable + non_trainable:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}"]
    return "\n".join(lines)
