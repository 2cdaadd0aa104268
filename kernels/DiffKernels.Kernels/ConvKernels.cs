using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Geometry of an NHWC convolution (see Conv2dGeometry on the host), with the output size precomputed.</summary>
internal struct ConvShape
{
    public int N, H, W, Cin, Cout, KH, KW, SH, SW, PH, PW, OH, OW;

    /// <summary>KH·KW·Cin: one flattened patch, one row of the flattened weight.</summary>
    public readonly int Patch => KH * KW * Cin;
}

/// <summary>
/// Convolutions as implicit GEMMs on NHWC over the shared tiled core, every k index tap-major
/// (p = (kh·KW + kw)·C + c, so a slab is one tap's block of channels when C ≥ 8): forward
/// [N·OH·OW, Cout] = im2col(x)·wᵀ (+ bias), data gradient [N·H·W, Cin] = gather(dy)·w, weight
/// gradient transposed, [KH·KW·Cin (+1), Cout] = im2col(x)ᵀ·dy, whose extra row of ones gives the
/// bias gradient Σ dy in the same pass (split over pixels when there are few output tiles). The
/// operands (ConvOperands.cs) decode a thread's pixel and tap once and then walk them with compares
/// and additions, so the main loops hold no integer division.
/// </summary>
internal static class ConvKernels
{
    [Kernel(grouped: true)]
    public static void Forward<TS>(Im2ColA a, WeightTB b, BiasC c) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, Im2ColA, WeightTB, BiasC>(a, b, c, a.G.N * a.G.OH * a.G.OW, a.G.Cout, a.G.Patch, 0);

    [Kernel(grouped: true)]
    public static void BackwardData<TS>(DyGatherA a, WeightTapB b, DenseC c) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, DyGatherA, WeightTapB, DenseC>(a, b, c, a.G.N * a.G.H * a.G.W, a.G.Cin, a.G.KH * a.G.KW * a.G.Cout, 0);

    /// <summary>dwᵀ and db (or, with <paramref name="kChunk"/> &gt; 0, one pixel range per grid z into the workspace).</summary>
    [Kernel(grouped: true)]
    public static void BackwardWeight<TS>(PatchRowsA a, DyB b, WeightGradC c, int kChunk) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, PatchRowsA, DyB, WeightGradC>(a, b, c, c.Rows, a.G.Cout, a.G.N * a.G.OH * a.G.OW, kChunk);

    /// <summary>
    /// Sums the split weight-gradient partials Ws[s, row, co] in split order (deterministic) into dw
    /// and db: one thread per element of the [Rows, Cout] product.
    /// </summary>
    [Kernel]
    public static void BackwardWeightCombine(Index1D i, int splits, WeightGradC c)
    {
        int size = c.Rows * c.Cout;
        float s = 0f;
        for (int z = 0; z < splits; z++) s += c.Ws[z * size + i];
        c.Split = 0;
        c.Store(0, i / c.Cout, i % c.Cout, s);
    }
}
