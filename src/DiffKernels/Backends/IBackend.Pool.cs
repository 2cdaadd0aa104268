namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>Nearest-neighbour ×2 upsampling, NHWC: y[n, i, j, c] = x[n, i/2, j/2, c]; x is [n, h, w, c], y [n, 2h, 2w, c].</summary>
    void Upsample2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c);

    /// <summary>Gradient of <see cref="Upsample2x"/>: dx[n, i, j, c] = sum of dy over its 2×2 block; dx is [n, h, w, c], dy [n, 2h, 2w, c].</summary>
    void Upsample2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c);

    /// <summary>2×2 average pooling with stride 2, NHWC: x is [n, h, w, c] with h and w even, y [n, h/2, w/2, c].</summary>
    void AvgPool2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c);

    /// <summary>Gradient of <see cref="AvgPool2x"/>: each dx of a 2×2 block is a quarter of its dy; dx is [n, h, w, c], dy [n, h/2, w/2, c].</summary>
    void AvgPool2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c);
}
