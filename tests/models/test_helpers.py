"""The shared model test helpers on a model that is not text: a tiny functional image
backbone (one (B, H, W, C) tensor in), as an image architecture would write it."""
import os

import numpy as np
import pytest

from tests.models.helpers import _images_of_size, run_backbone_test, run_preset_test
from tests.testing import assert_close, flatten, to_numpy
from zoo import layers, ops
from zoo.models.backbone import Backbone
from zoo.saving import register_serializable


@register_serializable(package="zoo_tests")
class TinyImageBackbone(Backbone):
    """images (B, H, W, C) -> two stride-2 conv blocks -> features (B, H/4, W/4, 2 * filters)
    [and pooled (B, 2 * filters) when ``pooled``]."""

    def __init__(self, filters=4, image_channels=3, pooled=False, dtype=None, name=None,
                 **kwargs):
        images = layers.Input((None, None, image_channels), name="images")
        x = images
        for i, width in enumerate((filters, 2 * filters)):
            x = layers.Conv2D(width, 3, strides=2, padding="same", name=f"conv_{i}",
                              dtype=dtype)(x)                          # (B, H/2^i, W/2^i, w)
            x = layers.BatchNormalization(name=f"norm_{i}", dtype=dtype)(x)
            x = layers.Activation("relu", name=f"relu_{i}", dtype=dtype)(x)
        outputs = x
        if pooled:
            outputs = {"features": x,
                       "pooled": layers.GlobalAveragePooling2D(name="pool", dtype=dtype)(x)}
        super().__init__(inputs=images, outputs=outputs, name=name or "tiny_image_backbone",
                         dtype=dtype, **kwargs)
        self.filters = int(filters)
        self.image_channels = int(image_channels)
        self.pooled = bool(pooled)


IMAGES = np.random.RandomState(0).uniform(-1, 1, (3, 16, 12, 3)).astype("float32")


def test_backbone_test_takes_an_image_tensor():
    backbone, outputs = run_backbone_test(TinyImageBackbone, {"filters": 4}, IMAGES,
                                          expected_output_shape=(3, 4, 3, 8))
    assert to_numpy(outputs).shape == (3, 4, 3, 8)


def test_backbone_test_with_a_second_image_size_and_dict_outputs():
    run_backbone_test(TinyImageBackbone, {"filters": 2, "pooled": True}, IMAGES,
                      expected_output_shape={"features": (3, 4, 3, 4), "pooled": (3, 4)},
                      variable_image_size=(20, 8))


def test_images_of_another_size_are_cropped_or_tiled():
    images = np.arange(2 * 3 * 2 * 1).reshape(2, 3, 2, 1)
    assert _images_of_size(images, (2, 1)).tolist() == images[:, :2, :1].tolist()
    tiled = _images_of_size(images, (5, 3))
    assert tiled.shape == (2, 5, 3, 1)
    assert tiled[:, 3:5, 2].tolist() == images[:, 0:2, 0].tolist()


@register_serializable(package="zoo_tests")
class BatchCentredBackbone(Backbone):
    """A faulty backbone: each row's output depends on the other rows of the batch."""

    def __init__(self, dtype=None, name=None, **kwargs):
        images = layers.Input((None, None, 3), name="images")
        x = layers.Conv2D(2, 1, name="conv", dtype=dtype)(images)
        x = ops.subtract(x, ops.mean(x, axis=0, keepdims=True))
        super().__init__(inputs=images, outputs=x, name=name or "batch_centred", dtype=dtype,
                         **kwargs)


def test_backbone_test_catches_rows_that_depend_on_the_batch():
    with pytest.raises(AssertionError, match="a smaller batch"):
        run_backbone_test(BatchCentredBackbone, {}, IMAGES, expected_output_shape=(3, 16, 12, 2))


def test_preset_test_on_an_image_backbone(tmp_path):
    backbone = TinyImageBackbone(filters=2, pooled=True)
    loaded = run_preset_test(backbone, IMAGES, tmp_path, imports=("tests.models.test_helpers",))
    assert_close(flatten(loaded(IMAGES)), flatten(backbone(IMAGES)))
    assert os.path.isdir(tmp_path / "preset")
