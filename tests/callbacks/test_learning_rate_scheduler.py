"""LearningRateScheduler: the optimizer's learning rate follows the schedule."""
import numpy as np
import pytest

import zoo
from tests.callbacks.common import (RecordWeights, assert_weights_equal, needs_training,
                                    regression_data, small_model, weights_differ)


def current_lr(model):
    return float(np.asarray(zoo.ops.convert_to_numpy(model.optimizer.learning_rate)))


@needs_training
def test_schedule_sets_the_learning_rate_each_epoch():
    x, y = regression_data()
    model = small_model()
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return 0.1 * 0.5 ** epoch

    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0,
                        callbacks=[zoo.callbacks.LearningRateScheduler(schedule)])
    assert [e for e, _ in seen] == [0, 1, 2, 3]
    np.testing.assert_allclose([lr for _, lr in seen], [0.05, 0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(current_lr(model), 0.0125, rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"],
                               [0.1, 0.05, 0.025, 0.0125], rtol=1e-6)


@needs_training
def test_new_learning_rate_reaches_the_training_step():
    x, y = regression_data()
    model = small_model()
    record = RecordWeights()
    # lr 0 from the second epoch on: the weights must stop moving (on JAX too, where the
    # step is compiled once).
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
        zoo.callbacks.LearningRateScheduler(lambda epoch: 0.05 if epoch == 0 else 0.0),
        record])
    assert weights_differ(record.weights[0], small_model().get_weights())
    assert_weights_equal(record.weights[1], record.weights[0])
    assert_weights_equal(record.weights[2], record.weights[0])


@needs_training
def test_verbose_prints(capsys):
    x, y = regression_data()
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        zoo.callbacks.LearningRateScheduler(lambda e, lr: 0.01, verbose=1)])
    assert "learning rate to 0.01" in capsys.readouterr().out


@needs_training
def test_optimizer_with_a_schedule_is_refused():
    x, y = regression_data()
    schedule = zoo.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
    model = small_model(optimizer=zoo.optimizers.SGD(schedule))
    with pytest.raises(TypeError, match="LearningRateScheduler.*ExponentialDecay"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[zoo.callbacks.LearningRateScheduler(lambda e, lr: 0.01)])


def test_schedule_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        zoo.callbacks.LearningRateScheduler(0.1)
