"""EarlyStopping: patience, min_delta, baseline, start_from_epoch, restore_best_weights."""
import numpy as np
import pytest

import zoo
from tests.callbacks.common import (InjectLogs, RecordWeights, assert_weights_equal,
                                    needs_training, regression_data, small_model)
from zoo.engine.callbacks.callback_utils import resolve_mode


def run(values, epochs=None, **kwargs):
    x, y = regression_data()
    model = small_model()
    record = RecordWeights()
    stopper = zoo.callbacks.EarlyStopping(monitor="score", **kwargs)
    history = model.fit(x, y, epochs=epochs or len(values), batch_size=32, verbose=0,
                        callbacks=[InjectLogs("score", values), record, stopper])
    return model, history, record, stopper


@needs_training
def test_patience_stops_training():
    _, history, _, stopper = run([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], patience=2)
    assert len(history.history["loss"]) == 4  # best at epoch 1, then 2 bad epochs
    assert stopper.stopped_epoch == 3 and stopper.best == 0.5 and stopper.best_epoch == 1


@needs_training
def test_patience_zero_and_min_delta():
    _, history, _, _ = run([1.0, 0.5, 0.6, 0.1], patience=0)
    assert len(history.history["loss"]) == 3
    # 0.95 improves by less than min_delta: not an improvement.
    _, history, _, _ = run([1.0, 0.95, 0.5, 0.4], patience=0, min_delta=0.1)
    assert len(history.history["loss"]) == 2


@needs_training
def test_keeps_training_while_improving():
    _, history, _, stopper = run([5.0, 4.0, 3.0, 2.0, 1.0], patience=1)
    assert len(history.history["loss"]) == 5 and stopper.stopped_epoch == 0


@needs_training
def test_restore_best_weights():
    model, history, record, _ = run([1.0, 0.5, 0.6, 0.7, 0.8, 0.9], patience=2,
                                    restore_best_weights=True)
    assert len(history.history["loss"]) == 4
    assert_weights_equal(model.get_weights(), record.weights[1])
    model, _, record, _ = run([1.0, 0.5, 0.6, 0.7, 0.8, 0.9], patience=2)
    assert_weights_equal(model.get_weights(), record.weights[3])  # last epoch's weights


@needs_training
def test_restore_best_weights_without_early_stop():
    model, history, record, _ = run([3.0, 1.0, 2.0], patience=5, restore_best_weights=True)
    assert len(history.history["loss"]) == 3
    assert_weights_equal(model.get_weights(), record.weights[1])


@needs_training
def test_baseline_and_start_from_epoch():
    # Never better than the baseline: stops once patience runs out.
    _, history, _, _ = run([1.0, 0.9, 0.8, 0.7, 0.6], patience=2, baseline=0.1)
    assert len(history.history["loss"]) == 2
    # Warm-up epochs are not monitored.
    _, history, _, stopper = run([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], patience=1, start_from_epoch=3)
    assert len(history.history["loss"]) == 5 and stopper.best == 4.0


@needs_training
def test_on_real_val_loss_with_max_mode():
    x, y = regression_data()
    model = small_model()
    # val_loss decreases while training: maximising it stops after `patience` epochs.
    history = model.fit(x, y, epochs=10, batch_size=16, validation_data=(x, y), verbose=0,
                        callbacks=[zoo.callbacks.EarlyStopping(patience=2, mode="max")])
    losses = history.history["val_loss"]
    assert len(losses) == 3 and losses[2] < losses[1] < losses[0]


@needs_training
def test_missing_monitor_warns():
    x, y = regression_data()
    model = small_model()
    with pytest.warns(UserWarning, match="val_loss"):
        history = model.fit(x, y, epochs=2, verbose=0,
                            callbacks=[zoo.callbacks.EarlyStopping(patience=0)])
    assert len(history.history["loss"]) == 2


def test_auto_mode():
    assert resolve_mode("auto", "val_accuracy", "x") == "max"
    assert resolve_mode("auto", "acc", "x") == "max"
    assert resolve_mode("auto", "val_auc", "x") == "max"
    assert resolve_mode("auto", "val_loss", "x") == "min"
    assert resolve_mode("auto", "mae", "x") == "min"
    assert resolve_mode("max", "val_loss", "x") == "max"
    with pytest.raises(ValueError, match="mode"):
        zoo.callbacks.EarlyStopping(mode="up")
    assert np.isinf(zoo.callbacks.EarlyStopping(monitor="val_accuracy").best)
