"""Write CTranslate2 ``model.bin`` files for the loader's tests (any format version), and
a zoo WhisperBackbone's weights under CTranslate2's names (what its converter would write).

    variables = ct2_variables(backbone)                 {name: array} + attributes
    write_model_bin(path, variables, aliases={"decoder/projection/weight":
                    "decoder/embeddings/weight"}, version=6)

The layout follows CTranslate2's ``ModelSpec._serialize`` (and, for versions 1 to 5, what
its C++ ``Model::load`` reads); quantize() follows its ``_quantize`` (int8: a per-row scale
127 / max|row|; int16: one scale 2**10 / max|w|).
"""
import struct

import numpy as np

DTYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4, "bfloat16": 5}


def _string(text):
    data = text.encode("utf-8")
    return struct.pack("<H", len(data) + 1) + data + b"\0"


def write_model_bin(path, variables, aliases=None, version=6, spec="WhisperSpec", revision=3):
    out = [struct.pack("<I", version)]
    if version >= 2:
        out += [_string(spec), struct.pack("<I", revision)]
    out.append(struct.pack("<I", len(variables)))
    for name in sorted(variables):
        value = np.asarray(variables[name])
        out += [_string(name), struct.pack("<B", value.ndim),
                struct.pack(f"<{value.ndim}I", *value.shape)]
        if version >= 4:
            out += [struct.pack("<B", DTYPE_IDS[value.dtype.name]),
                    struct.pack("<I", value.nbytes)]
        else:
            out += [struct.pack("<B", value.dtype.itemsize), struct.pack("<I", value.size)]
        out.append(np.ascontiguousarray(value).tobytes())
    if version >= 3:
        aliases = aliases or {}
        out.append(struct.pack("<I", len(aliases)))
        for alias, target in sorted(aliases.items()):
            out += [_string(alias), _string(target)]
    with open(path, "wb") as f:
        f.write(b"".join(out))
    return path


def quantize(variables, kind):
    """CTranslate2's weight quantization of every ``*weight`` (int8 or int16) -> a new
    dict with the ``*_scale`` variables added."""
    out = {}
    for name, value in variables.items():
        value = np.asarray(value)
        if not name.endswith("weight") or value.ndim == 0:
            out[name] = value
            continue
        value = value.astype(np.float32)
        if kind == "int16":
            scale = np.float32(2 ** 10 / np.amax(np.abs(value)))
            out[name] = np.clip(np.rint(value * scale), -32768, 32767).astype(np.int16)
        else:
            rows = value.reshape(value.shape[0], -1)
            amax = np.amax(np.abs(rows), axis=1)
            amax[amax == 0] = 127.0
            scale = (127.0 / amax).astype(np.float32)
            out[name] = np.rint(rows * scale[:, None]).astype(np.int8).reshape(value.shape)
        out[name + "_scale"] = scale
    return out


def ct2_variables(backbone, dtype="float32"):
    """A zoo WhisperBackbone's weights as CTranslate2's Whisper converter names and lays
    them out (torch layouts, q/k/v and cross-attention k/v fused, a zero key bias), plus
    the attributes its WhisperSpec stores."""
    v = {path: np.asarray(var.numpy(), np.float32)
         for path, var in backbone.variable_paths().items()}
    out = {}

    def dense(kernel):                      # (in, ...) -> (out, in)
        return kernel.reshape(kernel.shape[0], -1).T

    def attention(prefix):
        q, k, val, o = (f"{prefix}/{n}" for n in ("query", "key", "value",
                                                  "attention_output"))
        weights = [dense(v[f"{n}/kernel"]) for n in (q, k, val)]
        bias_q = v[f"{q}/bias"].reshape(-1)
        biases = [bias_q, np.zeros_like(bias_q), v[f"{val}/bias"].reshape(-1)]
        out_kernel = v[f"{o}/kernel"]
        return weights, biases, out_kernel.reshape(-1, out_kernel.shape[-1]).T, v[f"{o}/bias"]

    def norm(target, source):
        out[f"{target}/gamma"], out[f"{target}/beta"] = v[f"{source}/gamma"], v[f"{source}/beta"]

    def ffn(target, source):
        for i, dense_name in enumerate(("intermediate", "output")):
            layer = f"{source}/feedforward_{dense_name}_dense"
            out[f"{target}/ffn/linear_{i}/weight"] = dense(v[f"{layer}/kernel"])
            out[f"{target}/ffn/linear_{i}/bias"] = v[f"{layer}/bias"]
        norm(f"{target}/ffn/layer_norm", f"{source}/feedforward_layer_norm")

    def self_attention(target, source):
        w, b, ow, ob = attention(f"{source}/self_attention")
        out[f"{target}/self_attention/linear_0/weight"] = np.concatenate(w)
        out[f"{target}/self_attention/linear_0/bias"] = np.concatenate(b)
        out[f"{target}/self_attention/linear_1/weight"] = ow
        out[f"{target}/self_attention/linear_1/bias"] = ob
        norm(f"{target}/self_attention/layer_norm", f"{source}/self_attention_layer_norm")

    for conv in ("conv1", "conv2"):
        out[f"encoder/{conv}/weight"] = v[f"encoder_{conv}/kernel"].transpose(2, 1, 0)
        out[f"encoder/{conv}/bias"] = v[f"encoder_{conv}/bias"]
    out["encoder/position_encodings/encodings"] = v["encoder_position_embedding/embeddings"]
    for i in range(backbone.num_layers):
        self_attention(f"encoder/layer_{i}", f"encoder_transformer_layer_{i}")
        ffn(f"encoder/layer_{i}", f"encoder_transformer_layer_{i}")
    norm("encoder/layer_norm", "encoder_layer_norm")
    out["decoder/embeddings/weight"] = v["token_embedding/embeddings"]
    out["decoder/position_encodings/encodings"] = v["decoder_position_embedding/embeddings"]
    for i in range(backbone.num_decoder_layers):
        target, source = f"decoder/layer_{i}", f"decoder_transformer_layer_{i}"
        self_attention(target, source)
        w, b, ow, ob = attention(f"{source}/cross_attention")
        out[f"{target}/attention/linear_0/weight"], out[f"{target}/attention/linear_0/bias"] = \
            w[0], b[0]
        out[f"{target}/attention/linear_1/weight"] = np.concatenate(w[1:])
        out[f"{target}/attention/linear_1/bias"] = np.concatenate(b[1:])
        out[f"{target}/attention/linear_2/weight"], out[f"{target}/attention/linear_2/bias"] = \
            ow, ob
        norm(f"{target}/attention/layer_norm", f"{source}/cross_attention_layer_norm")
        ffn(target, source)
    norm("decoder/layer_norm", "decoder_layer_norm")
    if dtype != "float32":
        import ml_dtypes

        target = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
        out = {k: a.astype(target) for k, a in out.items()}
    out.update({"encoder/num_heads": np.int16(backbone.num_heads),
                "decoder/num_heads": np.int16(backbone.num_decoder_heads),
                "decoder/activation": np.int8(3), "decoder/pre_norm": np.int8(1),
                "decoder/scale_embeddings": np.int8(0), "decoder/alibi": np.int8(0)})
    return out
