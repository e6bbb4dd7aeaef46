"""Each optimizer's update against an independent NumPy float64 reference."""
import numpy as np
import pytest

from tests.optimizers.helpers import assert_close, make_grads, make_values, run_stateful
from zoo import optimizers


def reference(update, values, grads, **state_init):
    """Run ``update(name, w, g, t, state) -> w`` per variable over the steps (t 1-based)."""
    out = {}
    for name, w in values.items():
        w = w.astype("float64")
        state = {}
        for t, step in enumerate(grads, start=1):
            w = update(name, w, step[name].astype("float64"), t, state)
        out[name] = w
    return out


def sgd_ref(lr, momentum=0.0, nesterov=False):
    def update(name, w, g, t, s):
        if not momentum:
            return w - lr * g
        s["m"] = momentum * s.get("m", 0.0) - lr * g
        return w + (momentum * s["m"] - lr * g if nesterov else s["m"])
    return update


def adam_ref(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0, skip_decay=()):
    def update(name, w, g, t, s):
        if wd and name not in skip_decay:
            w = w - lr * wd * w
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        v = s["v"]
        if amsgrad:
            s["vh"] = v = np.maximum(s.get("vh", 0.0), v)
        return w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(v) + eps)
    return update


def rmsprop_ref(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def update(name, w, g, t, s):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        denom = s["v"]
        if centered:
            s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
            denom = denom - s["a"] ** 2
        step = lr * g / np.sqrt(denom + eps)
        if momentum:
            s["m"] = step = momentum * s.get("m", 0.0) + step
        return w - step
    return update


def adafactor_ref(lr, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    rms = lambda x: np.sqrt(np.mean(x * x))

    def update(name, w, g, t, s):
        rho = min(lr, 1 / np.sqrt(t))
        alpha = max(eps2, rms(w)) * rho
        g2 = g * g + eps1
        beta = 1 - t ** decay
        if w.ndim >= 2:
            s["r"] = beta * s.get("r", 0.0) + (1 - beta) * g2.mean(-1)
            s["c"] = beta * s.get("c", 0.0) + (1 - beta) * g2.mean(-2)
            v = (s["r"] / s["r"].mean(-1, keepdims=True))[..., None] * s["c"][..., None, :]
        else:
            s["v"] = v = beta * s.get("v", 0.0) + (1 - beta) * g2
        u = g / np.sqrt(v)
        u = u / max(1.0, rms(u) / clip)
        return w - alpha * u
    return update


CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), sgd_ref(0.1)),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), sgd_ref(0.1, 0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
                     sgd_ref(0.05, 0.8, nesterov=True)),
    "adam": (lambda: optimizers.Adam(0.01), adam_ref(0.01)),
    "adam_betas": (lambda: optimizers.Adam(0.02, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
                   adam_ref(0.02, 0.5, 0.9, 1e-3)),
    "amsgrad": (lambda: optimizers.Adam(0.01, amsgrad=True), adam_ref(0.01, amsgrad=True)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1), adam_ref(0.01, wd=0.1)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), rmsprop_ref(0.01)),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
        rmsprop_ref(0.01, 0.8, 0.5, centered=True)),
    "adafactor": (lambda: optimizers.Adafactor(0.01), adafactor_ref(0.01)),
    "adafactor_clip": (lambda: optimizers.Adafactor(0.5, clip_threshold=0.5, epsilon_2=0.1),
                       adafactor_ref(0.5, clip=0.5, eps2=0.1)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_update_matches_numpy_reference(case):
    make_optimizer, update = CASES[case]
    values, grads = make_values(), make_grads(4)
    assert_close(run_stateful(make_optimizer(), values, grads), reference(update, values, grads))


def test_adafactor_factors_rank_3():
    shapes = {"conv": (2, 3, 4), "bias": (4,), "scalar": ()}
    values, grads = make_values(shapes), make_grads(3, shapes)
    out = run_stateful(optimizers.Adafactor(0.05), values, grads)
    assert_close(out, reference(adafactor_ref(0.05), values, grads))


def test_adafactor_state_shapes():
    from tests.optimizers.helpers import make_variables

    variables = make_variables(make_values({"conv": (2, 3, 4), "bias": (4,)}))
    opt = optimizers.Adafactor()
    opt.build(variables)
    shapes = {v.name: v.shape for v in opt.variables}
    assert shapes["adafactor_r_0"] == (2, 3) and shapes["adafactor_c_0"] == (2, 4)
    assert shapes["velocity_0"] == (2, 3, 4) and shapes["adafactor_r_1"] == ()


def test_adamw_exclude_from_weight_decay():
    values, grads = make_values(), make_grads(3)
    opt = optimizers.AdamW(0.01, weight_decay=0.2)
    opt.exclude_from_weight_decay(var_names=["bias"])
    expected = reference(adam_ref(0.01, wd=0.2, skip_decay=("bias",)), values, grads)
    assert_close(run_stateful(opt, values, grads), expected)


def test_exclude_by_var_list_and_regex():
    from tests.optimizers.helpers import make_variables

    variables = make_variables(make_values())
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[variables[0]])
    assert not opt._use_weight_decay(variables[0]) and opt._use_weight_decay(variables[1])
    opt2 = optimizers.SGD(0.1, weight_decay=0.5)
    opt2.exclude_from_weight_decay(var_names=["^bi.s$"])
    assert opt2._use_weight_decay(variables[0]) and not opt2._use_weight_decay(variables[1])
    # zero gradients: the only change is the decay of the kernel
    opt.apply([np.zeros((3, 4), "float32"), np.zeros(4, "float32")], variables)
    np.testing.assert_allclose(variables[0].numpy(), make_values()["kernel"], rtol=1e-6)
    np.testing.assert_allclose(variables[1].numpy(), make_values()["bias"] * 0.95, rtol=1e-6)


def test_weight_decay_on_any_optimizer():
    values, grads = make_values(), make_grads(2)

    def ref(name, w, g, t, s):
        return sgd_ref(0.1)(name, w - 0.1 * 0.3 * w, g, t, s)

    out = run_stateful(optimizers.SGD(0.1, weight_decay=0.3), values, grads)
    assert_close(out, reference(ref, values, grads))


def test_none_gradient_leaves_variable_alone():
    from tests.optimizers.helpers import make_variables

    values = make_values()
    variables = make_variables(values)
    opt = optimizers.Adam(0.1)
    opt.apply([np.ones((3, 4), "float32"), None], variables)
    np.testing.assert_array_equal(variables[1].numpy(), values["bias"])
    assert not np.allclose(variables[0].numpy(), values["kernel"])


def test_variables_names_and_order():
    from tests.optimizers.helpers import make_variables

    opt = optimizers.Adam(amsgrad=True, name="my_adam")
    opt.build(make_variables(make_values()))
    names = [v.name for v in opt.variables]
    assert names[:2] == ["iterations", "learning_rate"]
    assert names[2:] == ["momentum_0", "momentum_1", "velocity_0", "velocity_1",
                         "velocity_hat_0", "velocity_hat_1"]
    assert len({v.path for v in opt.variables}) == len(names)
    assert opt.variables[0].path == "my_adam/iterations"
    assert not any(v.trainable for v in opt.variables)
    assert opt.iterations.dtype == "int64"


def test_learning_rate_setter_and_iterations():
    values, grads = make_values(), make_grads(2)
    opt = optimizers.SGD(0.1)
    from tests.optimizers.helpers import make_variables

    variables = make_variables(values)
    opt.apply([grads[0][v.name] for v in variables], variables)
    opt.learning_rate = 0.5
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(0.5)
    opt.apply([grads[1][v.name] for v in variables], variables)
    expected = values["bias"] - 0.1 * grads[0]["bias"] - 0.5 * grads[1]["bias"]
    np.testing.assert_allclose(variables[1].numpy(), expected, rtol=1e-5)
    assert int(opt.iterations.numpy()) == 2
    with pytest.raises(TypeError):
        opt.learning_rate = optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)


def test_apply_gradients_and_errors():
    from tests.optimizers.helpers import make_variables

    variables = make_variables(make_values())
    opt = optimizers.SGD(1.0)
    with pytest.raises(ValueError, match="build"):
        opt.apply([np.ones((3, 4), "float32")])
    opt.apply_gradients(zip([np.ones((3, 4), "float32"), np.ones(4, "float32")], variables))
    other = make_variables(make_values())
    with pytest.raises(ValueError, match="unknown variable"):
        opt.apply([np.ones((3, 4), "float32")], other[:1])
    with pytest.raises(ValueError, match="at most one"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd_momentum"])
def test_transposed_gradients(name):
    """Gradients that are transposed views (a traced graph returns such; so can a user's
    loop): the update reads them by index, not by memory order."""
    from zoo import ops
    from tests.optimizers.helpers import make_variables

    make = {"adam": lambda: optimizers.Adam(0.01),
            "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
            "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9)}[name]
    shapes = {"w": (5, 3), "b": (3,)}
    values, grads = make_values(shapes), make_grads(2, shapes)
    want = run_stateful(make(), values, grads)
    variables = make_variables(values)
    optimizer = make()
    for step in grads:
        transposed = [ops.transpose(ops.convert_to_tensor(np.ascontiguousarray(step[v.name].T)))
                      for v in variables]
        optimizer.apply(transposed, variables)
    assert_close({v.name: ops.convert_to_numpy(v.value) for v in variables}, want)
