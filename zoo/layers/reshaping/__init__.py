from zoo.layers.reshaping.reshape import Flatten, Permute, RepeatVector, Reshape  # noqa: F401
from zoo.layers.reshaping.spatial import (  # noqa: F401
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
