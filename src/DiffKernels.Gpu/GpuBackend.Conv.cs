using DiffKernels.Backends;
using DiffKernels.Kernels;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu;

// Convolutions run as implicit GEMMs on the shared tiled core (no im2col buffer); 1×1 stride-1
// unpadded convolutions are plain products over pixels and go to the SGEMM path.
public sealed partial class GpuBackend
{
    private static ConvShape Shape(Conv2dGeometry g) => new()
    {
        N = g.N, H = g.H, W = g.W, Cin = g.Cin, Cout = g.Cout, KH = g.KH, KW = g.KW,
        SH = g.StrideH, SW = g.StrideW, PH = g.PadH, PW = g.PadW, OH = g.OH, OW = g.OW,
    };

    /// <inheritdoc/>
    public void Conv2dForward(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        int rows = g.N * g.OH * g.OW;
        if (rows == 0 || g.Cout == 0) return;
        if (g.IsPointwise)
        {
            if (bias != null) CopyStrided(bias, 0, [0, 1], y, 0, [g.Cout, 1], new Shape(rows, g.Cout));
            Gemm(false, true, rows, g.Cout, g.Cin, 1f, x, 0, g.Cin, w, 0, g.Cin, bias != null ? 1f : 0f, y, 0, g.Cout, 1, 0, 0, 0);
            return;
        }
        var s = Shape(g);
        var yv = V(y);
        bool large = _plan.GemmLarge(rows, g.Cout);
        _k.ConvForward(large)(GemmGrid(rows, g.Cout, 1, large),
            new Im2ColA { X = V(x), G = s },
            new WeightTB { Weight = V(w), Patch = g.PatchSize },
            new BiasC { Y = yv, Bias = bias != null ? V(bias) : yv, Cout = g.Cout, HasBias = bias != null ? 1 : 0 });
    }

    /// <inheritdoc/>
    public void Conv2dBackwardData(Conv2dGeometry g, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx)
    {
        int pixels = g.N * g.H * g.W;
        if (pixels == 0 || g.Cin == 0) return;
        if (g.IsPointwise)
        {
            Gemm(false, false, pixels, g.Cin, g.Cout, 1f, dy, 0, g.Cout, w, 0, g.Cin, 0f, dx, 0, g.Cin, 1, 0, 0, 0);
            return;
        }
        var s = Shape(g);
        bool large = _plan.GemmLarge(pixels, g.Cin);
        _k.ConvBackwardData(large)(GemmGrid(pixels, g.Cin, 1, large),
            new DyGatherA { Dy = V(dy), G = s },
            new WeightTapB { Weight = V(w), G = s },
            new DenseC { Data = V(dx), Ld = g.Cin, Alpha = 1f });
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw)
    {
        int rows = g.N * g.OH * g.OW, patch = g.PatchSize;
        if (g.Cout == 0 || patch == 0) return;
        if (g.IsPointwise || rows == 0)
        {
            // With no output pixels the k = 0 product clears dw.
            Gemm(true, false, g.Cout, patch, rows, 1f, dy, 0, g.Cout, x, 0, patch, 0f, dw, 0, patch, 1, 0, 0, 0);
            return;
        }
        var s = Shape(g);
        var a = new DyTA { Dy = V(dy), Cout = g.Cout };
        var b = new Im2ColB { X = V(x), G = s };
        var target = new DenseC { Data = V(dw), Ld = patch, Alpha = 1f };
        bool large = _plan.GemmLarge(g.Cout, patch);
        var (splits, chunk) = _plan.SplitK(LaunchPlan.GemmTiles(g.Cout, patch, large), rows);
        if (splits == 1)
        {
            _k.ConvBackwardWeight(large)(GemmGrid(g.Cout, patch, 1, large), a, b, target, 0);
            return;
        }
        using var ws = Allocate((long)splits * g.Cout * patch).Lease();
        var partial = new DenseC { Data = V(ws.Buffer), Ld = patch, Stride = g.Cout * patch, Alpha = 1f };
        _k.ConvBackwardWeight(large)(GemmGrid(g.Cout, patch, splits, large), a, b, partial, chunk);
        _k.SplitKCombine(g.Cout * patch, V(ws.Buffer), splits, g.Cout, patch, target);
    }
}
