"""A terminal progress bar with ETA and running metrics (Keras-style output).

verbose=1: an updating bar per epoch (redrawn at most every ``interval`` seconds, so
converting metrics to numbers does not slow fast steps); verbose=2: one line per epoch;
verbose=0: silent.
"""
import sys
import time

import numpy as np


def _as_float(value):
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        from zoo import ops

        return float(ops.convert_to_numpy(value))


def format_logs(logs):
    return " - ".join(f"{k}: {_as_float(v):.4f}" for k, v in logs.items())


class Progbar:
    def __init__(self, target=None, verbose=1, interval=0.1, width=30, stream=None):
        self.target = target
        self.verbose = verbose
        self.interval = interval
        self.width = width
        self.stream = stream or sys.stdout
        self.start = time.time()
        self._last_render = 0.0
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, current, logs=None, finalize=False):
        now = time.time()
        if self.verbose != 1 or (not finalize and now - self._last_render < self.interval):
            if self.verbose == 2 and finalize:
                self._line(current, logs, now)
            return
        self._last_render = now
        self._line(current, logs, now, bar=True, finalize=finalize)

    def _line(self, current, logs, now, bar=False, finalize=True):
        elapsed = now - self.start
        if bar and self.target:
            done = int(self.width * min(current, self.target) / self.target)
            text = f"{current}/{self.target} [{'=' * done}{'.' * (self.width - done)}]"
        else:
            text = f"{current}/{self.target or '?'}"
        if finalize:
            per_step = elapsed / max(current, 1)
            if per_step < 1e-3:
                unit = f"{per_step * 1e6:.0f}us/step"
            elif per_step < 1:
                unit = f"{per_step * 1e3:.0f}ms/step"
            else:
                unit = f"{per_step:.1f}s/step"
            text += f" {elapsed:.0f}s {unit}"
        elif self.target:
            eta = elapsed / max(current, 1) * (self.target - current)
            text += f" ETA: {eta:.0f}s"
        if logs:
            text += " - " + format_logs(logs)
        if self._dynamic:
            self.stream.write("\r" + text + ("\n" if finalize else ""))
        elif finalize:
            self.stream.write(text + "\n")
        self.stream.flush()
