"""CSVLogger: a header and one row per epoch, flushed as training goes."""
import csv

import numpy as np

import zoo
from tests.callbacks.common import needs_training, regression_data, small_model


def read(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


@needs_training
def test_rows_match_history(tmp_path):
    x, y = regression_data()
    model = small_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=(x, y), verbose=0,
                        callbacks=[zoo.callbacks.CSVLogger(str(path))])
    rows = read(path)
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], history.history["loss"])
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], history.history["val_loss"])


@needs_training
def test_rows_are_flushed_every_epoch(tmp_path):
    x, y = regression_data()
    model = small_model()
    path = tmp_path / "log.csv"
    lines = []

    class Peek(zoo.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            lines.append(len(read(path)))

    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[zoo.callbacks.CSVLogger(str(path)), Peek()])
    assert lines == [2, 3, 4]  # header + one row per finished epoch, readable at once


@needs_training
def test_append_separator_and_missing_values(tmp_path):
    x, y = regression_data()
    model = small_model()
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
              callbacks=[zoo.callbacks.CSVLogger(str(path), separator=";")])
    # validation every other epoch: the epochs without it get "NA"
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), validation_freq=2,
              callbacks=[zoo.callbacks.CSVLogger(str(path), separator=";", append=True)])
    rows = read(path, ";")
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert len(rows) == 5 and [r[0] for r in rows[1:]] == ["0", "1", "0", "1"]
    assert rows[3][2] == "NA" and rows[4][2] != "NA"
    # without append, the file starts over
    model.fit(x, y, epochs=1, verbose=0, callbacks=[zoo.callbacks.CSVLogger(str(path))])
    rows = read(path)
    assert rows[0] == ["epoch", "loss"] and len(rows) == 2
