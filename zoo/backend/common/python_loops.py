"""Control flow as plain Python loops, for the eager backends (numpy, torch).

JAX and TensorFlow compile these (lax / tf.while_loop); torch eager and NumPy simply run
them. ``scan`` differs per framework (how results are stacked) and stays in each backend.
"""


def cond(pred, true_fn, false_fn):
    return true_fn() if bool(pred) else false_fn()


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    i = 0
    while (maximum_iterations is None or i < maximum_iterations) and bool(cond(*loop_vars)):
        loop_vars = tuple(body(*loop_vars))
        i += 1
    return loop_vars


def fori_loop(lower, upper, body_fun, init_val):
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val
