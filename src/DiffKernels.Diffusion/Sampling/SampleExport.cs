using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>Samples laid out for files other tools read: 2D points as N×2, images as N×C×H×W.</summary>
public static class SampleExport
{
    /// <summary>
    /// Host values and shape of <paramref name="samples"/> for a .npy file: [N, D] stays as is; NHWC images
    /// lose <paramref name="crop"/> pixels on every side (padding added for training), become NCHW and are clipped
    /// to the data range [−1, 1], as the PNG grids are (a denoiser's output overshoots it by a little).
    /// </summary>
    public static (float[] Data, int[] Shape) ForNpy(Tensor samples, int crop = 0)
    {
        if (samples.Rank == 2 && crop == 0) return (samples.ToArray(), samples.Shape.ToArray());
        if (samples.Rank != 4) throw new ArgumentException($"SampleExport: expected [N, D] points or [N, H, W, C] images, got {samples.Shape}");
        int h = samples.Shape[1], w = samples.Shape[2];
        if (crop < 0 || 2 * crop >= h || 2 * crop >= w)
            throw new ArgumentException($"SampleExport: crop {crop} does not fit images of {h}×{w}");
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var images = crop == 0 ? samples : F.Narrow(F.Narrow(samples, 1, crop, h - 2 * crop), 2, crop, w - 2 * crop);
        var nchw = F.Clamp(F.Permute(images, 0, 3, 1, 2), -1f, 1f);
        return (nchw.ToArray(), nchw.Shape.ToArray());
    }
}
