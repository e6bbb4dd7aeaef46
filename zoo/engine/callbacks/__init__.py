"""Callbacks for fit/evaluate/predict (``zoo.callbacks``)."""
from zoo.engine.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from zoo.engine.callbacks.callback import Callback, CallbackList, History  # noqa: F401
from zoo.engine.callbacks.csv_logger import CSVLogger  # noqa: F401
from zoo.engine.callbacks.early_stopping import EarlyStopping  # noqa: F401
from zoo.engine.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from zoo.engine.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from zoo.engine.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from zoo.engine.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
