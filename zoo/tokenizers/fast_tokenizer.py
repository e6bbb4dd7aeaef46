"""What the tokenizers on Hugging Face ``tokenizers`` share: text checks and the
tokenize / detokenize calls over a built ``tokenizers.Tokenizer`` (``_require_vocabulary``
returns it; each subclass builds it from its own vocabulary files)."""
import numpy as np


def _is_string_batch(inputs):
    return isinstance(inputs, (list, tuple)) or (
        isinstance(inputs, np.ndarray) and inputs.ndim >= 1)


def text_batch(inputs, where="tokenize"):
    """A list / tuple / 1D array of strings (or bytes) -> a list of str."""
    if isinstance(inputs, np.ndarray) and inputs.ndim != 1:
        raise ValueError(f"{where}: expected a 1D batch of strings, got an array of shape "
                         f"{inputs.shape}.")
    return [as_text(t, where) for t in inputs]


def as_text(value, where="tokenize"):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"{where}: expected a string, got {type(value).__name__} ({value!r:.60}).")


class FastTokenizer:
    def _require_vocabulary(self):
        raise NotImplementedError

    # -- tokenize ---------------------------------------------------------------------------
    def tokenize(self, inputs):
        """A string -> a list of ids; a list / array of strings -> a list of lists."""
        backend = self._require_vocabulary()
        where = f"{type(self).__name__}.tokenize"
        if _is_string_batch(inputs):
            encodings = backend.encode_batch(text_batch(inputs, where), add_special_tokens=False)
            return [e.ids for e in encodings]
        return backend.encode(as_text(inputs, where), add_special_tokens=False).ids

    def tokenize_to_strings(self, inputs):
        """Like ``tokenize`` but returns the (byte-mapped) token strings."""
        backend = self._require_vocabulary()
        where = f"{type(self).__name__}.tokenize_to_strings"
        if _is_string_batch(inputs):
            return [e.tokens for e in backend.encode_batch(text_batch(inputs, where),
                                                           add_special_tokens=False)]
        return backend.encode(as_text(inputs, where), add_special_tokens=False).tokens

    def __call__(self, inputs):
        return self.tokenize(inputs)

    def detokenize(self, ids, skip_special_tokens=False):
        """A sequence of ids -> a string; a batch (list of lists, 2D array) -> a list."""
        backend = self._require_vocabulary()
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, (int, np.integer)):
            ids = [int(ids)]
        if ids and isinstance(ids[0], (list, tuple)):
            return backend.decode_batch([[int(i) for i in row] for row in ids],
                                        skip_special_tokens=skip_special_tokens)
        return backend.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)
