"""``zoo.layers``: the Layer base and the built-in layers (Keras signatures and defaults)."""
from zoo.layers.attention import MultiHeadAttention  # noqa: F401
from zoo.layers.convolution import (  # noqa: F401
    Conv1D,
    Conv2D,
    Conv3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
)
from zoo.layers.core.activation import Activation, Identity, Softmax  # noqa: F401
from zoo.layers.core.dense import Dense  # noqa: F401
from zoo.layers.core.einsum_dense import EinsumDense  # noqa: F401
from zoo.layers.core.embedding import Embedding  # noqa: F401
from zoo.layers.core.lambda_layer import Lambda  # noqa: F401
from zoo.layers.core.rescaling import Rescaling  # noqa: F401
from zoo.layers.dtype_policy import DTypePolicy  # noqa: F401
from zoo.layers.input_layer import Input, InputLayer  # noqa: F401
from zoo.layers.layer import Layer  # noqa: F401
from zoo.layers.merging import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from zoo.layers.normalization import BatchNormalization, LayerNormalization  # noqa: F401
from zoo.layers.op_layer import OpLayer  # noqa: F401
from zoo.layers.pooling import (  # noqa: F401
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from zoo.layers.regularization import Dropout  # noqa: F401
from zoo.layers.transformer import (  # noqa: F401
    MaskedLMHead,
    PositionEmbedding,
    TransformerDecoder,
    TransformerEncoder,
)
from zoo.layers.reshaping import (  # noqa: F401
    Cropping1D,
    Cropping2D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
