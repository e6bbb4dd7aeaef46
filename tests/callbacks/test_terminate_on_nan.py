"""TerminateOnNaN: a NaN loss stops training cleanly and fit returns its History."""
import numpy as np

import zoo
from tests.callbacks.common import RecordWeights, needs_training, regression_data, small_model


@needs_training
def test_stops_after_the_nan_batch(capsys):
    x, y = regression_data()
    y = y.copy()
    y[40] = np.nan  # batch 2 of 16-sample batches (no shuffling)
    model = small_model()
    record = RecordWeights()
    history = model.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[zoo.callbacks.TerminateOnNaN(), record])
    assert isinstance(history, zoo.callbacks.History)
    assert record.batches == [0, 1, 2]  # batch 3 and later epochs never ran
    assert history.epoch == [0]
    assert np.isnan(history.history["loss"][0])
    assert model.stop_training
    assert "Batch 2" in capsys.readouterr().out


@needs_training
def test_inf_loss_stops_too():
    x, y = regression_data()
    y = y.copy()
    y[0] = np.inf
    model = small_model()
    callback = zoo.callbacks.TerminateOnNaN()
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[callback])
    assert callback.stopped_batch == 0 and history.epoch == [0]


@needs_training
def test_finite_losses_train_to_the_end():
    x, y = regression_data()
    model = small_model()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0,
                        callbacks=[zoo.callbacks.TerminateOnNaN()])
    assert history.epoch == [0, 1, 2] and not model.stop_training
