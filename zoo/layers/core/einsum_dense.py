"""EinsumDense: a dense layer whose contraction is an einsum equation.

    EinsumDense("abc,cde->abde", output_shape=(None, heads, head_dim), bias_axes="de")

maps (batch, seq, hidden) to (batch, seq, heads, head_dim) with a kernel of shape
(hidden, heads, head_dim). ``output_shape`` lists the output dimensions after the first
(batch) one and without those an ellipsis stands for; ``None`` means "same as the input
dimension with that letter". ``bias_axes`` names output letters that carry a bias.

``enable_lora(rank)`` freezes the kernel and adds ``lora_kernel_a`` (the kernel's input
dims, rank) and ``lora_kernel_b`` (rank, the kernel's output dims): for the kernel
(hidden, heads, head_dim) above, a is (hidden, rank) and b (rank, heads, head_dim), and the
layer computes with kernel + a @ b * alpha / rank.
"""
import math
import re

from zoo import ops
from zoo.layers import activations, initializers
from zoo.layers.core import lora
from zoo.layers.layer import Layer

_EQUATION = re.compile(r"^(\.\.\.)?([a-zA-Z]*)(\.\.\.)?,([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]*)(\.\.\.)?$")


def _parse(equation):
    """-> (input letters, kernel letters, output letters, "left" | "right" | None)."""
    m = _EQUATION.match(equation.replace(" ", ""))
    if m is None:
        raise ValueError(f"EinsumDense: cannot parse equation {equation!r}; expected "
                         f"'ab,bc->ac' with an optional leading or trailing '...'.")
    in_left, ins, in_right, kernel, out_left, outs, out_right = m.groups()
    ellipsis = None
    if in_left or out_left:
        if not (in_left and out_left) or in_right or out_right:
            raise ValueError(f"EinsumDense: equation {equation!r} must put '...' at the same "
                             f"end of the input and the output.")
        ellipsis = "left"
    elif in_right or out_right:
        if not (in_right and out_right):
            raise ValueError(f"EinsumDense: equation {equation!r} must put '...' at the same "
                             f"end of the input and the output.")
        ellipsis = "right"
    return ins, kernel, outs, ellipsis


def analyze(equation, input_shape, output_shape, bias_axes):
    """Resolve the equation for inputs of ``input_shape``.

    Returns (explicit equation, kernel shape, bias shape or None, full output shape).
    """
    ins, kernel, outs, ellipsis = _parse(equation)
    input_shape = tuple(input_shape)
    output_shape = [output_shape] if isinstance(output_shape, int) or output_shape is None \
        else list(output_shape)
    n_elided = len(input_shape) - len(ins)
    if n_elided < 0 or (n_elided > 0 and ellipsis is None):
        raise ValueError(f"EinsumDense: equation {equation!r} does not match inputs of rank "
                         f"{len(input_shape)} (shape {input_shape}).")
    used = set(ins + kernel + outs)
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    extra = "".join(spare[:n_elided])
    if ellipsis == "left":
        full_in, full_out = extra + ins, extra + outs
        described = outs  # output_shape covers the explicit output letters
    elif ellipsis == "right":
        full_in, full_out = ins + extra, outs + extra
        described = outs[1:]
    else:
        full_in, full_out = ins, outs
        described = outs[1:]
    if len(output_shape) != len(described):
        raise ValueError(f"EinsumDense: output_shape {tuple(output_shape)} must give "
                         f"{len(described)} dimension(s), one per output letter of "
                         f"{described!r} in {equation!r}.")
    dims = dict(zip(full_in, input_shape))
    for letter, size in zip(described, output_shape):
        known = dims.get(letter)
        if size is None:
            if letter not in dims:
                raise ValueError(f"EinsumDense: output dimension {letter!r} of {equation!r} "
                                 f"is None but does not appear in the input.")
        elif known is not None and known != size:
            raise ValueError(f"EinsumDense: output dimension {letter!r} is {size} in "
                             f"output_shape but {known} in the input shape {input_shape}.")
        else:
            dims[letter] = int(size)
    kernel_shape = []
    for letter in kernel:
        if letter not in dims or dims[letter] is None:
            raise ValueError(f"EinsumDense: kernel dimension {letter!r} of {equation!r} is "
                             f"unknown for inputs of shape {input_shape}.")
        kernel_shape.append(dims[letter])
    full_output = tuple(dims.get(letter) for letter in full_out)
    bias_shape = None
    if bias_axes:
        for letter in bias_axes:
            if letter not in outs:
                raise ValueError(f"EinsumDense: bias axis {letter!r} is not an output letter "
                                 f"of {equation!r}.")
        first = min(full_out.index(letter) for letter in bias_axes)
        bias_shape = tuple(dims[letter] if letter in bias_axes else 1
                           for letter in full_out[first:])
    return f"{full_in},{kernel}->{full_out}", tuple(kernel_shape), bias_shape, full_output


def matmul_plan(equation):
    """For "<free><contracted>,<contracted><new>-><free><new>" equations (the usual dense
    projections), the einsum is a reshape-matmul-reshape:
    -> (number of free letters, contracted letters, new letters), else None."""
    ins, kernel, outs = equation.replace("->", ",").split(",")
    contracted = [c for c in kernel if c in ins and c not in outs]
    new = [c for c in kernel if c not in ins]
    n_free = len(ins) - len(contracted)
    free = ins[:n_free]
    if not contracted or kernel != "".join(contracted + new) or any(c in kernel for c in free) \
            or ins[n_free:] != "".join(contracted) or outs != free + "".join(new):
        return None
    return n_free, contracted, new


class EinsumDense(lora.LoraMixin, Layer):
    _lora_target = "kernel"
    _lora_names = ("lora_kernel_a", "lora_kernel_b")

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", lora_rank=None,
                 lora_alpha=None, **kwargs):
        super().__init__(**kwargs)
        lora.init_lora(self, lora_rank, lora_alpha)
        _parse(equation)  # fail early on a malformed equation
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) \
            or output_shape is None else tuple(output_shape)
        self.bias_axes = bias_axes
        self._activation_id = activation
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        equation, kernel_shape, bias_shape, full_output = analyze(
            self.equation, input_shape, self.partial_output_shape, self.bias_axes)
        self._equation = equation
        self.full_output_shape = full_output
        self.kernel = self.add_weight(kernel_shape, self.kernel_initializer, name="kernel")
        self._plan = None
        plan = matmul_plan(equation)
        if plan is not None:  # einsum as matmul: fewer framework ops in eager mode
            n_free, contracted, new = plan
            dims = dict(zip(equation.split(",")[1].split("->")[0], kernel_shape))
            c_size = math.prod(dims[c] for c in contracted)
            new_dims = tuple(dims[c] for c in new)
            kernel_2d = None if len(kernel_shape) == 2 else (c_size, math.prod(new_dims))
            self._plan = (n_free, c_size if len(contracted) > 1 else None, kernel_2d,
                          new_dims if len(new) != 1 else None)
            self.kernel.set_product_layout(len(contracted))
        if bias_shape is not None:
            self.bias = self.add_weight(bias_shape, self.bias_initializer, name="bias")
        else:
            self.bias = None
        # a bias over exactly the new dims rides in the matmul (one fused kernel on torch)
        self._fuse_bias = plan is not None and bias_shape is not None and \
            tuple(bias_shape) == tuple(dims[c] for c in plan[2])
        self.built = True
        self._enable_lora_from_config()

    def call(self, inputs):
        plan = self._plan
        bias = self.bias
        lead = tuple(inputs.shape)[:plan[0]] if plan is not None else (None,)
        if None in lead:  # no plan, or unknown free dims (symbolic / traced): plain einsum
            kernel = self.kernel.value
            if self.lora_rank:
                delta = self._lora_delta(self._lora_a.value, self._lora_b.value)
                kernel = ops.add(kernel, ops.multiply(delta, self._lora_scale))
            x = ops.einsum(self._equation, inputs, kernel)
        else:
            _, c_size, kernel_2d, new_dims = plan
            kernel = self.kernel.value
            if kernel_2d is not None:
                kernel = ops.reshape(kernel, kernel_2d)
            if c_size is not None:
                inputs = ops.reshape(inputs, lead + (c_size,))
            fused = ops.reshape(bias.value, (-1,)) if self._fuse_bias else None
            x = ops.linear(inputs, kernel, fused)
            if self.lora_rank:  # (inputs @ a) @ b over the flattened dims
                a, b = self._lora_a.value, self._lora_b.value
                rank = self.lora_rank
                if c_size is not None:
                    a = ops.reshape(a, (c_size, rank))
                if kernel_2d is not None:
                    b = ops.reshape(b, (rank, kernel_2d[1]))
                low = ops.matmul(ops.matmul(inputs, a), b)
                x = ops.add(x, ops.multiply(low, self._lora_scale))
            if new_dims is not None:
                x = ops.reshape(x, lead + new_dims)
            if fused is not None:
                bias = None
        if bias is not None:
            x = ops.add(x, bias.value)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        output_shape = self.partial_output_shape
        return {**super().get_config(), "equation": self.equation,
                "output_shape": list(output_shape) if len(output_shape) != 1 else output_shape[0],
                "bias_axes": self.bias_axes,
                "activation": activations.serialize(self._activation_id),
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **self._lora_config()}

    # -- LoRA (zoo/layers/core/lora.py) --------------------------------------------------
    def _lora_letters(self):
        """-> (kernel letters, those contracted with the input, the others)."""
        ins, rest = self._equation.split(",")
        kernel = rest.split("->")[0]
        return kernel, "".join(c for c in kernel if c in ins), \
            "".join(c for c in kernel if c not in ins)

    def _lora_shapes(self, rank):
        kernel, ins, outs = self._lora_letters()
        if not ins:
            raise ValueError(f"EinsumDense layer '{self.name}': LoRA needs a kernel dimension "
                             f"contracted with the input; {self.equation!r} has none.")
        dims = dict(zip(kernel, self.kernel.shape))
        return tuple(dims[c] for c in ins) + (rank,), (rank,) + tuple(dims[c] for c in outs)

    def _lora_delta(self, a, b):
        kernel, ins, outs = self._lora_letters()
        r = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                 if c not in self._equation)
        return ops.einsum(f"{ins}{r},{r}{outs}->{kernel}", a, b)
