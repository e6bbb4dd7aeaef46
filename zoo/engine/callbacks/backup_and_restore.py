"""BackupAndRestore: resume an interrupted ``fit`` from its last backup.

Files in ``backup_dir``::

    training_state.json              {"format": "zoo.backup", "format_version": 1,
                                      "epoch": the epoch to resume at (0-based),
                                      "step": batches of that epoch already trained,
                                      "weights": ..., "optimizer": ..., "backend": ...}
    backup-<tag>.weights.h5          the model's variables (model.save_weights); this
                                     includes non-trainable state such as the
                                     SeedGenerator states of Dropout layers
    backup-<tag>.optimizer.h5        the optimizer's variables, one dataset per index

Every backup writes new data files under a fresh tag, each atomically (temporary name,
fsync, rename), and then ``training_state.json`` -- last, atomically -- which is what makes
the backup complete. A crash at any point therefore leaves the previous complete backup
readable; files that no ``training_state.json`` names are leftovers and are removed.
"""
import json
import os
import secrets

import numpy as np

from zoo.engine.callbacks.callback import Callback
from zoo.engine.callbacks.callback_utils import sync_variables

STATE_FILE = "training_state.json"
FORMAT = "zoo.backup"
FORMAT_VERSION = 1
_OPTIMIZER_FORMAT = "zoo.optimizer_state"
_PREFIX = "backup-"


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir``; a later ``fit`` resumes from it.

    Args:
        backup_dir: a directory only this training run uses (created when needed).
        save_freq: ``"epoch"`` (back up at the end of every epoch) or an integer: back up
            every that many batches as well. A backup taken mid-epoch resumes at the start
            of that epoch with the mid-epoch weights, unless the trainer honours
            ``model._initial_step`` (the number of batches of that epoch already trained).
        delete_checkpoint: delete the backup when ``fit`` finishes (including a stop by
            EarlyStopping/TerminateOnNaN). An exception or a killed process leaves it.

    In ``on_train_begin``, if a complete backup exists: the optimizer is built if needed,
    the weights and optimizer variables are loaded and ``model._initial_epoch`` is set, so
    ``fit`` continues with the first epoch that did not complete. With the same data, seed
    (``zoo.config.set_random_seed`` before ``fit``: the shuffle order is drawn from
    ``(seed, epoch)``) and model, the result equals an uninterrupted run.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is required (a directory path).")
        if save_freq != "epoch" and not (isinstance(save_freq, int)
                                         and not isinstance(save_freq, bool) and save_freq > 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive "
                             f"integer (a number of batches); got {save_freq!r}.")
        self.backup_dir = os.path.abspath(os.fspath(backup_dir))
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._current_epoch = 0
        self._batches_since_save = 0
        self.restored_epoch = None

    # -- paths ---------------------------------------------------------------------------
    @property
    def state_path(self):
        return os.path.join(self.backup_dir, STATE_FILE)

    def read_state(self):
        """The contents of the last complete backup, or None when there is none."""
        try:
            with open(self.state_path) as f:
                state = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ValueError(f"BackupAndRestore: {self.state_path!r} is unreadable "
                             f"({type(error).__name__}: {error}). Delete {self.backup_dir!r} "
                             f"to start training from scratch.") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"BackupAndRestore: {self.state_path!r} is not a zoo backup "
                             f"(no format={FORMAT!r}).")
        if int(state.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"BackupAndRestore: {self.state_path!r} has format version "
                             f"{state['format_version']}, newer than this zoo supports "
                             f"({FORMAT_VERSION}).")
        return state

    # -- restore -------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._batches_since_save = 0
        self.restored_epoch = None
        state = self.read_state()
        if state is None:
            return
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not getattr(optimizer, "built", True):
            optimizer.build(model.trainable_variables)
        weights_path = os.path.join(self.backup_dir, state["weights"])
        try:
            model.load_weights(weights_path)
        except (ValueError, OSError) as error:
            raise ValueError(f"BackupAndRestore: cannot restore the backup in "
                             f"{self.backup_dir!r} into this model: {error}") from error
        if optimizer is not None and state.get("optimizer"):
            path = os.path.join(self.backup_dir, state["optimizer"])
            try:
                _load_optimizer_variables(optimizer, path)
            except OSError as error:
                raise ValueError(f"BackupAndRestore: cannot read the optimizer state "
                                 f"{path!r}: {error}") from error
        epoch = int(state["epoch"])
        model._initial_epoch = epoch
        model._initial_step = int(state.get("step", 0))  # batches of that epoch already done
        self.restored_epoch = epoch

    # -- back up -------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            sync_variables(self.model)
            self.backup(self._current_epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._batches_since_save = 0
        self.backup(epoch + 1, step=0)

    def backup(self, epoch, step=0):
        """Write a complete backup that resumes at ``epoch`` (after ``step`` batches)."""
        from zoo import config
        from zoo.saving.weights import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        tag = f"{_PREFIX}e{epoch:06d}-s{step:06d}-{secrets.token_hex(4)}"
        weights_name = tag + ".weights.h5"
        self.model.save_weights(os.path.join(self.backup_dir, weights_name))
        optimizer = getattr(self.model, "optimizer", None)
        optimizer_name = None
        if optimizer is not None:
            optimizer_name = tag + ".optimizer.h5"
            with atomic_write(os.path.join(self.backup_dir, optimizer_name)) as tmp:
                _write_optimizer_variables(optimizer, tmp)
        state = {"format": FORMAT, "format_version": FORMAT_VERSION, "epoch": int(epoch),
                 "step": int(step), "weights": weights_name, "optimizer": optimizer_name,
                 "backend": config.backend()}
        # Last: writing this file is what completes the backup.
        with atomic_write(self.state_path) as tmp, open(tmp, "w") as f:
            json.dump(state, f, indent=1)
        self._remove_leftovers(keep={weights_name, optimizer_name})

    def _remove_leftovers(self, keep):
        for name in os.listdir(self.backup_dir):
            stale = (name.startswith(_PREFIX) and name not in keep) or \
                name.startswith((f".{_PREFIX}", f".{STATE_FILE}."))
            if stale and name.endswith((".h5", ".tmp")):
                try:
                    os.remove(os.path.join(self.backup_dir, name))
                except OSError:
                    pass

    # -- clean up ------------------------------------------------------------------------
    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir):
            return
        for name in os.listdir(self.backup_dir):  # only our files: the dir may hold others
            if name == STATE_FILE or (name.lstrip(".").startswith((_PREFIX, STATE_FILE))):
                try:
                    os.remove(os.path.join(self.backup_dir, name))
                except OSError:
                    pass
        try:
            os.rmdir(self.backup_dir)
        except OSError:  # not empty: someone else's files are there
            pass


# -- optimizer variables <-> HDF5 ----------------------------------------------------------

def _optimizer_variables(optimizer):
    return list(getattr(optimizer, "variables", []) or [])


def _write_optimizer_variables(optimizer, path):
    import h5py

    variables = _optimizer_variables(optimizer)
    with h5py.File(path, "w", track_order=True, locking=False) as f:
        f.attrs["format"] = _OPTIMIZER_FORMAT
        f.attrs["count"] = len(variables)
        f.attrs["optimizer"] = type(optimizer).__name__
        for index, variable in enumerate(variables):
            array = np.asarray(variable.numpy())
            dtype_attr = None
            if array.dtype.name == "bfloat16":
                array, dtype_attr = array.view(np.uint16), "bfloat16"
            dataset = f.create_dataset(f"{index:06d}", data=array)
            dataset.attrs["path"] = str(getattr(variable, "path", getattr(variable, "name", "")))
            if dtype_attr:
                dataset.attrs["dtype"] = dtype_attr


def _load_optimizer_variables(optimizer, path):
    import h5py

    variables = _optimizer_variables(optimizer)
    with h5py.File(path, "r", locking=False) as f:
        count = int(f.attrs.get("count", -1))
        if count != len(variables):
            raise ValueError(
                f"BackupAndRestore: the backup {path!r} holds {count} optimizer variables but "
                f"{type(optimizer).__name__} has {len(variables)}; was the optimizer or the "
                f"model changed since the backup was written?")
        arrays = []
        for index, variable in enumerate(variables):
            dataset = f[f"{index:06d}"]
            if tuple(dataset.shape) != tuple(variable.shape):
                raise ValueError(
                    f"BackupAndRestore: optimizer variable {index} "
                    f"({dataset.attrs.get('path', '?')}) has shape {tuple(dataset.shape)} in "
                    f"the backup {path!r} but {tuple(variable.shape)} in "
                    f"{type(optimizer).__name__}.")
            array = dataset[()]
            if dataset.attrs.get("dtype") == "bfloat16":
                import ml_dtypes

                array = np.asarray(array).view(ml_dtypes.bfloat16)
            arrays.append(array)
    for variable, array in zip(variables, arrays):  # checked everything first
        variable.assign(np.asarray(array))
