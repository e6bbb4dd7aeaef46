"""Training run for the SIGKILL test of BackupAndRestore (run as a subprocess).

    python -c "from tests.callbacks.backup_script import main; main()" \
        BACKUP_DIR OUT.weights.h5 MARKER|-

With a MARKER path that does not exist yet, the run creates it and kills itself with
SIGKILL in the middle of the third epoch; a run that finds the marker trains to the end.
"-" means: never kill (the uninterrupted reference run). The final weights go to OUT.
"""
import os
import signal
import sys

import zoo
from tests.callbacks.common import regression_data, small_model

EPOCHS = 5
KILL_EPOCH, KILL_BATCH = 2, 1  # 0-based: the third epoch, after its second batch


def build():
    return small_model(dropout=0.25, optimizer=zoo.optimizers.SGD(0.05, momentum=0.5))


class KillOnce(zoo.callbacks.Callback):
    def __init__(self, marker):
        super().__init__()
        self.marker = marker
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (KILL_EPOCH, KILL_BATCH) and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write("killed\n")
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv=None):
    backup_dir, out, marker = (argv or sys.argv[1:])[:3]
    x, y = regression_data()
    model = build()
    backup = zoo.callbacks.BackupAndRestore(backup_dir)
    callbacks = [backup] + ([KillOnce(marker)] if marker != "-" else [])
    zoo.config.set_random_seed(0)
    history = model.fit(x, y, epochs=EPOCHS, batch_size=16, verbose=0, callbacks=callbacks)
    print(f"restored_epoch={backup.restored_epoch} epochs_run={history.epoch}", flush=True)
    model.save_weights(out)


if __name__ == "__main__":
    main()
