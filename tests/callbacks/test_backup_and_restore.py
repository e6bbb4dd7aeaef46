"""BackupAndRestore: a crashed or killed fit resumes and ends where an uninterrupted one does.

Runs are made comparable by seeding before building each model and before each fit
(``zoo.config.set_random_seed(0)``): the shuffle order is drawn from ``(seed, epoch)`` and
the Dropout seed states travel in the backup's weights file.
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import zoo
from tests.callbacks import backup_script
from tests.callbacks.common import (assert_weights_equal, needs_training, regression_data,
                                    small_model)
from tests.conftest import BACKEND
from zoo.engine.callbacks import backup_and_restore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCHS = backup_script.EPOCHS
TIMEOUT = 600


class CrashAt(zoo.callbacks.Callback):
    """Raises before batch ``batch`` of epoch ``epoch`` (a simulated crash)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("simulated crash")


def train(callbacks=(), epochs=EPOCHS):
    """A fresh, seeded model trained with ``callbacks``; returns (model, history)."""
    x, y = regression_data()
    model = backup_script.build()
    zoo.config.set_random_seed(0)
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=list(callbacks))
    return model, history


def read_state(backup_dir):
    with open(os.path.join(backup_dir, backup_and_restore.STATE_FILE)) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def reference():
    """The weights of an uninterrupted run (no BackupAndRestore at all)."""
    if BACKEND == "numpy":
        pytest.skip("the numpy backend cannot train")
    model, history = train()
    assert history.epoch == list(range(EPOCHS))
    return model.get_weights()


@needs_training
def test_resume_after_crash_matches_uninterrupted_run(tmp_path, reference):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="simulated crash"):
        train([zoo.callbacks.BackupAndRestore(backup_dir), CrashAt(2, 3)])
    state = read_state(backup_dir)
    assert state["epoch"] == 2 and state["step"] == 0  # epochs 0 and 1 completed
    assert os.path.exists(os.path.join(backup_dir, state["weights"]))
    assert os.path.exists(os.path.join(backup_dir, state["optimizer"]))

    backup = zoo.callbacks.BackupAndRestore(backup_dir)
    model, history = train([backup])
    assert backup.restored_epoch == 2
    assert history.epoch == [2, 3, 4]
    assert_weights_equal(model.get_weights(), reference, atol=1e-6)
    np.testing.assert_equal(int(np.asarray(model.optimizer.iterations.numpy())), EPOCHS * 4)
    assert not os.path.exists(backup_dir)  # deleted after the successful end


@needs_training
def test_crash_while_writing_a_backup_keeps_the_previous_one(tmp_path, reference, monkeypatch):
    backup_dir = str(tmp_path / "backup")
    real_write = backup_and_restore._write_optimizer_variables
    calls = []

    def failing_write(optimizer, path):
        calls.append(path)
        if len(calls) == 3:  # the backup at the end of epoch 2 (0-based) dies mid-way
            raise OSError("disk full (simulated)")
        real_write(optimizer, path)

    monkeypatch.setattr(backup_and_restore, "_write_optimizer_variables", failing_write)
    with pytest.raises(OSError, match="simulated"):
        train([zoo.callbacks.BackupAndRestore(backup_dir)])
    monkeypatch.setattr(backup_and_restore, "_write_optimizer_variables", real_write)
    assert read_state(backup_dir)["epoch"] == 2  # the last complete backup
    leftovers = [n for n in os.listdir(backup_dir) if n.endswith(".tmp")]
    assert leftovers == []

    model, history = train([zoo.callbacks.BackupAndRestore(backup_dir,
                                                           delete_checkpoint=False)])
    assert history.epoch == [2, 3, 4]
    assert_weights_equal(model.get_weights(), reference, atol=1e-6)
    state = read_state(backup_dir)
    assert state["epoch"] == EPOCHS
    assert sorted(os.listdir(backup_dir)) == sorted(  # the failed attempt's files are gone
        [backup_and_restore.STATE_FILE, state["weights"], state["optimizer"]])


@needs_training
def test_kept_backup_of_a_finished_run_trains_no_more(tmp_path, reference):
    backup_dir = str(tmp_path / "backup")
    train([zoo.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)])
    assert read_state(backup_dir)["epoch"] == EPOCHS
    model, history = train([zoo.callbacks.BackupAndRestore(backup_dir)])
    assert history.epoch == []
    assert_weights_equal(model.get_weights(), reference, atol=1e-6)


@needs_training
def test_only_its_own_files_are_deleted(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("keep me")
    train([zoo.callbacks.BackupAndRestore(str(backup_dir))], epochs=2)
    assert os.listdir(backup_dir) == ["notes.txt"]


@needs_training
def test_backup_every_n_batches(tmp_path):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError):
        train([zoo.callbacks.BackupAndRestore(backup_dir, save_freq=3), CrashAt(1, 3)])
    state = read_state(backup_dir)
    # 4 batches per epoch; every epoch end backs up too and restarts the count: backups
    # at (epoch 0, step 3), end of epoch 0, (epoch 1, step 3); then the crash comes.
    assert (state["epoch"], state["step"]) == (1, 3)
    backup = zoo.callbacks.BackupAndRestore(backup_dir)

    class Steps(zoo.callbacks.Callback):
        seen = []

        def on_train_batch_begin(self, batch, logs=None):
            self.seen.append(batch)

    model, history = train([backup, Steps()])
    assert backup.restored_epoch == 1 and history.epoch[0] == 1 and history.epoch[-1] == 4
    # the resumed epoch starts after the backed-up step; later epochs run whole
    assert Steps.seen[:5] == [3, 0, 1, 2, 3]


@needs_training
def test_incompatible_backup_is_refused(tmp_path):
    backup_dir = str(tmp_path / "backup")
    train([zoo.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)], epochs=1)
    x, y = regression_data()
    other = small_model()  # no Dropout layer, so no seed state: a different model
    with pytest.raises(ValueError, match="cannot restore the backup"):
        other.fit(x, y, epochs=2, verbose=0,
                  callbacks=[zoo.callbacks.BackupAndRestore(backup_dir)])


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="backup_dir"):
        zoo.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        zoo.callbacks.BackupAndRestore(str(tmp_path), save_freq="batch")


def _run_script(backup_dir, out, marker):
    env = dict(os.environ, ZOO_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    return subprocess.Popen(
        [sys.executable, "-c", "from tests.callbacks.backup_script import main; main()",
         str(backup_dir), str(out), str(marker)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process):
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return process.returncode, output


def _read_weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return arrays


@needs_training
def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    marker = tmp_path / "killed.marker"
    resumed_out = tmp_path / "resumed.weights.h5"
    reference_out = tmp_path / "reference.weights.h5"
    reference_run = _run_script(tmp_path / "reference_backup", reference_out, "-")
    code, output = _finish(_run_script(tmp_path / "backup", resumed_out, marker))
    assert code == -9, output  # killed by SIGKILL in the middle of the third epoch
    assert marker.exists() and not resumed_out.exists()
    assert read_state(str(tmp_path / "backup"))["epoch"] == 2

    code, output = _finish(_run_script(tmp_path / "backup", resumed_out, marker))
    assert code == 0, output
    assert "restored_epoch=2 epochs_run=[2, 3, 4]" in output
    code, reference_output = _finish(reference_run)
    assert code == 0, reference_output
    assert "restored_epoch=None epochs_run=[0, 1, 2, 3, 4]" in reference_output

    resumed, want = _read_weights(resumed_out), _read_weights(reference_out)
    assert sorted(resumed) == sorted(want) and any("seed" in k for k in want)
    for name in want:
        np.testing.assert_allclose(resumed[name], want[name], rtol=0, atol=1e-6, err_msg=name)
    assert not (tmp_path / "backup").exists()
