"""A stand-in for numba, put first on the path of reference scripts that import
openai-whisper (whose word-timing module imports numba at import time). The references use
none of the jitted functions: ``jit`` returns the function unchanged."""


def jit(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function


njit = jit
