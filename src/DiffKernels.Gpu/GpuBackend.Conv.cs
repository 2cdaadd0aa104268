using DiffKernels.Backends;
using DiffKernels.Kernels;
using DiffKernels.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

// Convolutions run as implicit GEMMs on the shared tiled core (no im2col buffer), at the tile shape
// LaunchPlan.ConvTileFor matches to the product's width; 1×1 stride-1 unpadded convolutions are plain
// products over pixels and go to the SGEMM path, except a weight gradient with its bias gradient,
// which the convolution kernel computes in one pass.
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
            Gemm(false, true, rows, g.Cout, g.Cin, 1f, x, 0, g.Cin, w, 0, g.Cin, 0f, y, 0, g.Cout, 1, 0, 0, 0, bias);
            return;
        }
        var s = Shape(g);
        var yv = V(y);
        var tile = _plan.ConvTileFor(rows, g.Cout, splitsK: false);
        _k.ConvForward(tile)(ConvGrid(rows, g.Cout, 1, tile),
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
        var tile = _plan.ConvTileFor(pixels, g.Cin, splitsK: false);
        _k.ConvBackwardData(tile)(ConvGrid(pixels, g.Cin, 1, tile),
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
        BackwardWeight(g, x, dy, dw, null);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeightBias(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer db)
    {
        if (g.Cout == 0) return;
        BackwardWeight(g, x, dy, dw, db);
    }

    /// <summary>
    /// dw (and db) as one product im2col(x)ᵀ·dy of KH·KW·Cin (+1 for the row of ones behind db) rows by
    /// Cout columns over the N·OH·OW pixels, split over pixel ranges when it has few tiles and the
    /// partials summed in split order in the same launch.
    /// </summary>
    private void BackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        int pixels = g.N * g.OH * g.OW, patch = g.PatchSize, m = patch + (db != null ? 1 : 0);
        var s = Shape(g);
        var a = new PatchRowsA { X = V(x), G = s };
        var b = new DyB { Dy = V(dy), Cout = g.Cout };
        var dwv = V(dw);
        var c = new WeightGradC { Dw = dwv, Db = db != null ? V(db) : dwv, Patch = patch, Rows = m, Cout = g.Cout };
        var tile = _plan.ConvTileFor(m, g.Cout, splitsK: true);
        long tiles = LaunchPlan.Tiles(m, g.Cout, tile);
        var (splits, chunk) = _plan.SplitK(tiles, pixels);
        if (splits == 1)
        {
            _k.ConvBackwardWeight(tile)(ConvGrid(m, g.Cout, 1, tile), a, b, Whole(c, dwv), 0);
            return;
        }
        using var ws = Allocate((long)splits * m * g.Cout).Lease();
        _k.ConvBackwardWeight(tile)(ConvGrid(m, g.Cout, splits, tile), a, b, SplitOver(c, m, g.Cout, splits, ws.Buffer, tiles), chunk);
    }

    /// <summary>Grid (⌈cols/BN⌉, ⌈rows/BM⌉, depth) of one-dimensional groups of a convolution tile shape.</summary>
    private KernelConfig ConvGrid(int rows, int cols, int depth, ConvTile tile)
    {
        var (bm, bn, threads) = LaunchPlan.Shape(tile);
        var grid = new Index3D((cols + bn - 1) / bn, (rows + bm - 1) / bm, depth);
        var max = _acc.MaxGridSize;
        if (grid.X > max.X || grid.Y > max.Y || grid.Z > max.Z)
            throw new NotSupportedException($"{Name} backend: a {rows}×{cols} convolution product over {depth} k-splits needs a grid of {grid}, beyond the device's {max}");
        return new KernelConfig(grid, new Index3D(threads, 1, 1));
    }
}
