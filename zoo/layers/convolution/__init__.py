from zoo.layers.convolution.conv import Conv1D, Conv2D, Conv3D  # noqa: F401
from zoo.layers.convolution.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D  # noqa: F401
