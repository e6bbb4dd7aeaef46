"""get / serialize / deserialize / get_config / from_config."""
import numpy as np
import pytest

from tests.optimizers.helpers import assert_close, make_grads, make_values, run_stateful
from zoo import ops, optimizers

OPTIMIZERS = [
    lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    lambda: optimizers.Adam(0.002, beta_1=0.8, amsgrad=True, global_clipnorm=2.0, name="a"),
    lambda: optimizers.AdamW(optimizers.schedules.CosineDecay(0.0, 100, warmup_target=1e-3,
                                                              warmup_steps=10),
                             weight_decay=0.01, gradient_accumulation_steps=4),
    lambda: optimizers.Adafactor(0.01, clip_threshold=2.0, clipvalue=0.5),
    lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.3, centered=True,
                               loss_scale_factor=128.0),
    lambda: optimizers.LossScaleOptimizer(
        optimizers.Adam(optimizers.schedules.WarmupLinearDecay(1e-3, 10, 100)),
        initial_scale=1024.0, dynamic_growth_steps=50),
]


@pytest.mark.parametrize("index", range(len(OPTIMIZERS)))
def test_round_trip(index):
    opt = OPTIMIZERS[index]()
    config = optimizers.serialize(opt)
    clone = optimizers.deserialize(config)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    clone2 = type(opt).from_config(opt.get_config())
    assert clone2.get_config() == opt.get_config()
    values, grads = make_values(), make_grads(4)
    assert_close(run_stateful(clone, values, grads), run_stateful(OPTIMIZERS[index](), values,
                                                                  grads))


def test_config_records_current_learning_rate():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.25
    assert optimizers.SGD.from_config(opt.get_config()).get_config()["learning_rate"] == 0.25


@pytest.mark.parametrize("name,cls", [("sgd", "SGD"), ("adam", "Adam"), ("AdamW", "AdamW"),
                                      ("adafactor", "Adafactor"), ("rmsprop", "RMSprop")])
def test_get_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt).__name__ == cls
    assert optimizers.get(opt) is opt
    assert type(optimizers.get(optimizers.serialize(opt))).__name__ == cls


def test_get_unknown():
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.get("adamax_nope")
    with pytest.raises(ValueError):
        optimizers.get(42)


def test_defaults():
    assert float(ops.convert_to_numpy(optimizers.SGD().learning_rate)) == pytest.approx(0.01)
    adam = optimizers.Adam()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert optimizers.AdamW().weight_decay == 0.004
    assert np.isclose(float(ops.convert_to_numpy(adam.learning_rate)), 0.001)
