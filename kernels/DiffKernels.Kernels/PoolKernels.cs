using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Nearest ×2 upsampling and 2×2 average pooling on NHWC, with their adjoints; one thread per output element.</summary>
internal static class PoolKernels
{
    /// <summary>dst [n, 2h, 2w, c] = scale · src [n, h, w, c] spread over each 2×2 block (upsample, pool backward).</summary>
    [Kernel]
    public static void Spread(Index1D i, ArrayView<float> src, ArrayView<float> dst, int h, int w, int c, float scale)
    {
        int ch = i % c, rest = i / c;
        int x = rest % (2 * w), rest2 = rest / (2 * w);
        int y = rest2 % (2 * h), n = rest2 / (2 * h);
        dst[i] = scale * src[((n * h + y / 2) * w + x / 2) * c + ch];
    }

    /// <summary>dst [n, h, w, c] = scale · the sum of each 2×2 block of src [n, 2h, 2w, c] (pool, upsample backward).</summary>
    [Kernel]
    public static void BlockSum(Index1D i, ArrayView<float> src, ArrayView<float> dst, int h, int w, int c, float scale)
    {
        int ch = i % c, rest = i / c;
        int x = rest % w, rest2 = rest / w;
        int y = rest2 % h, n = rest2 / h;
        int row = 2 * w * c, top = ((n * 2 * h + 2 * y) * 2 * w + 2 * x) * c + ch;
        float s = src[top] + src[top + c] + src[top + row] + src[top + row + c];
        dst[i] = scale == 1f ? s : s * scale;
    }
}
