"""On the numpy backend fit raises a clear error, callbacks or not."""
import pytest

import zoo
from tests.callbacks.common import regression_data, small_model
from tests.conftest import BACKEND


@pytest.mark.skipif(BACKEND != "numpy", reason="numpy backend only")
def test_fit_with_callbacks_raises_on_numpy(tmp_path):
    x, y = regression_data()
    model = small_model()
    callbacks = [zoo.callbacks.BackupAndRestore(str(tmp_path / "backup")),
                 zoo.callbacks.CSVLogger(str(tmp_path / "log.csv")),
                 zoo.callbacks.TerminateOnNaN()]
    with pytest.raises(NotImplementedError, match="numpy backend"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks)
    assert not (tmp_path / "backup").exists() and not (tmp_path / "log.csv").exists()


def test_callbacks_are_exported():
    for name in ("ModelCheckpoint", "EarlyStopping", "TerminateOnNaN", "LearningRateScheduler",
                 "CSVLogger", "BackupAndRestore", "Callback", "History"):
        assert issubclass(getattr(zoo.callbacks, name), zoo.callbacks.Callback)
