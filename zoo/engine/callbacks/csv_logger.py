"""CSVLogger: one CSV row of logs per epoch."""
import csv
import os

from zoo.engine.callbacks.callback import Callback
from zoo.engine.callbacks.callback_utils import logs_to_floats


class CSVLogger(Callback):
    """Write ``epoch`` and the epoch's logs to ``filename``, one row per epoch.

    The header comes from the first epoch's keys (``epoch`` first, then the keys sorted);
    a key missing in a later epoch (e.g. validation every other epoch) is written ``NA``.
    The file is flushed after every row. With ``append=True`` rows are added to an
    existing file and no header is written when the file already has content.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self._file = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self.keys = None
        self.writer = None
        has_content = (self.append and os.path.exists(self.filename)
                       and os.path.getsize(self.filename) > 0)
        self._write_header = not has_content
        if has_content:
            with open(self.filename, newline="") as f:  # reuse the existing columns
                header = next(csv.reader(f, delimiter=self.sep), None)
            if header and header[0] == "epoch":
                self.keys = header[1:]
        directory = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(directory, exist_ok=True)
        self._close()
        self._file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs_to_floats(logs)
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")
            if self._write_header:
                self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._file = None
        self.writer = None

    def __del__(self):
        try:
            self._close()
        except Exception:  # interpreter shutdown
            pass
