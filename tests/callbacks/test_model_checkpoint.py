"""ModelCheckpoint: filepath formatting, best-only saving, whole-model files, save_freq."""
import os

import numpy as np
import pytest

import zoo
from tests.callbacks.common import (InjectLogs, RecordWeights, assert_weights_equal,
                                    needs_training, regression_data, small_model,
                                    weights_differ)


def load_into_fresh(path):
    model = small_model(seed=123)
    model.build((None, 4))
    model.load_weights(str(path))
    return model.get_weights()


@needs_training
def test_filepath_formats_epoch_and_log_keys(tmp_path):
    x, y = regression_data()
    model = small_model()
    record = RecordWeights()
    pattern = str(tmp_path / "ckpt" / "w-{epoch:02d}-{loss:.4f}-{val_loss:.3f}.weights.h5")
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=(x, y), verbose=0,
                        callbacks=[record, zoo.callbacks.ModelCheckpoint(
                            pattern, save_weights_only=True)])
    expected = [pattern.format(epoch=e + 1, loss=history.history["loss"][e],
                               val_loss=history.history["val_loss"][e]) for e in range(3)]
    assert sorted(os.listdir(tmp_path / "ckpt")) == sorted(os.path.basename(p) for p in expected)
    assert os.path.basename(expected[0]).startswith("w-01-")
    for epoch, path in enumerate(expected):  # each file holds that epoch's weights
        assert_weights_equal(load_into_fresh(path), record.weights[epoch])


@needs_training
def test_best_only_writes_on_improvement_only(tmp_path):
    x, y = regression_data()
    model = small_model()
    record = RecordWeights()
    scores = [3.0, 2.0, 2.5, 1.0, 1.5, 1.0]  # improvements at epochs 1, 2, 4 (1-based)
    pattern = str(tmp_path / "best-{epoch:02d}.weights.h5")
    fixed = str(tmp_path / "best.weights.h5")
    model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[
        InjectLogs("score", scores), record,
        zoo.callbacks.ModelCheckpoint(pattern, monitor="score", save_best_only=True,
                                      save_weights_only=True),
        zoo.callbacks.ModelCheckpoint(fixed, monitor="score", save_best_only=True,
                                      save_weights_only=True)])
    names = sorted(n for n in os.listdir(tmp_path) if n.startswith("best-"))
    assert names == ["best-01.weights.h5", "best-02.weights.h5", "best-04.weights.h5"]
    assert_weights_equal(load_into_fresh(fixed), record.weights[3])  # epoch 4 was best
    assert weights_differ(load_into_fresh(fixed), model.get_weights())


@needs_training
def test_best_only_mode_max_and_threshold(tmp_path):
    x, y = regression_data()
    model = small_model()
    pattern = str(tmp_path / "m-{epoch}.weights.h5")
    # "val_accuracy"-like names are maximised in auto mode; the threshold must be beaten.
    model.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=[
        InjectLogs("my_accuracy", [0.5, 0.7, 0.6, 0.65, 0.9]),
        zoo.callbacks.ModelCheckpoint(pattern, monitor="my_accuracy", save_best_only=True,
                                      save_weights_only=True, initial_value_threshold=0.6)])
    assert sorted(os.listdir(tmp_path)) == ["m-2.weights.h5", "m-5.weights.h5"]


@needs_training
def test_best_only_on_real_val_loss(tmp_path):
    x, y = regression_data()
    model = small_model()
    pattern = str(tmp_path / "v-{epoch:02d}.weights.h5")
    history = model.fit(x, y, epochs=5, batch_size=16, validation_data=(x[:32], y[:32]),
                        verbose=0, callbacks=[zoo.callbacks.ModelCheckpoint(
                            pattern, save_best_only=True, save_weights_only=True)])
    best, want = np.inf, []
    for epoch, value in enumerate(history.history["val_loss"]):
        if value < best:
            best = value
            want.append(f"v-{epoch + 1:02d}.weights.h5")
    assert sorted(os.listdir(tmp_path)) == want


@needs_training
def test_missing_monitor_warns_and_training_continues(tmp_path):
    x, y = regression_data()
    model = small_model()
    path = str(tmp_path / "never.weights.h5")
    with pytest.warns(UserWarning, match="val_loss"):
        history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[
            zoo.callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True)])
    assert len(history.history["loss"]) == 2
    assert not os.path.exists(path)


@needs_training
def test_whole_model_file(tmp_path):
    x, y = regression_data()
    model = small_model()
    path = str(tmp_path / "model-{epoch}.zoo")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[zoo.callbacks.ModelCheckpoint(path, monitor="loss", verbose=0)])
    loaded = zoo.saving.load_model(str(tmp_path / "model-2.zoo"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


@needs_training
def test_save_freq_in_batches_saves_current_weights(tmp_path):
    x, y = regression_data()  # 64 samples / 16 = 4 batches per epoch
    model = small_model()
    record = RecordWeights()
    initial = [np.array(w) for w in small_model().get_weights()]
    pattern = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[
        record, zoo.callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.weights.h5", "e1-b4.weights.h5",
                                            "e2-b2.weights.h5", "e2-b4.weights.h5"]
    # Mid-epoch files hold the weights of that moment (on JAX too, where the live state
    # sits in the jitted loop until the epoch ends).
    assert_weights_equal(load_into_fresh(tmp_path / "e1-b4.weights.h5"), record.weights[0])
    assert_weights_equal(load_into_fresh(tmp_path / "e2-b4.weights.h5"), record.weights[1])
    middle = load_into_fresh(tmp_path / "e1-b2.weights.h5")
    assert weights_differ(middle, initial) and weights_differ(middle, record.weights[0])


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError, match=".weights.h5"):
        zoo.callbacks.ModelCheckpoint(str(tmp_path / "x.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match=".zoo"):
        zoo.callbacks.ModelCheckpoint(str(tmp_path / "x.weights.h5"))
    with pytest.raises(ValueError, match="save_freq"):
        zoo.callbacks.ModelCheckpoint(str(tmp_path / "x.zoo"), save_freq=0)
    with pytest.raises(ValueError, match="mode"):
        zoo.callbacks.ModelCheckpoint(str(tmp_path / "x.zoo"), mode="bigger")


@needs_training
def test_unknown_filepath_key_is_named(tmp_path):
    x, y = regression_data()
    model = small_model()
    path = str(tmp_path / "{epoch}-{val_acc:.2f}.weights.h5")
    with pytest.raises(KeyError, match="val_acc"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            zoo.callbacks.ModelCheckpoint(path, save_weights_only=True)])
