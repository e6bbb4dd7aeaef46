"""The zoo of architectures: one folder per model family."""
from zoo.models.backbone import Backbone  # noqa: F401
from zoo.models.preprocessing import Preprocessor, Tokenizer  # noqa: F401
from zoo.models.task import Task  # noqa: F401
