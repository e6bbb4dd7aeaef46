"""Task pipelines with Hugging Face task names: ``zoo.pipeline("fill-mask", preset=...)``.

    classify = zoo.pipeline("text-classification", preset="./my_classifier_preset")
    classify(["a fine film", "a dull one"])
    # [[{'label': 'LABEL_1', 'score': 0.93}], [{'label': 'LABEL_0', 'score': 0.88}]]

Each pipeline loads the preset (``Model.from_preset``), runs the preset's preprocessor on
raw inputs, calls the model in batches and turns outputs into plain Python results.
"""
from zoo.pipelines.base import Pipeline, TASKS, pipeline, register_pipeline  # noqa: F401
from zoo.pipelines import text  # noqa: F401  (registers the text pipelines)
from zoo.pipelines import audio  # noqa: F401  (registers the speech pipeline)
from zoo.pipelines import vision  # noqa: F401  (registers the object-detection pipeline)
