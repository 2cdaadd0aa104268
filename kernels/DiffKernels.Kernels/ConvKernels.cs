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
/// bias gradient Σ dy in the same pass (split over pixels when there are few output tiles, the
/// partials summed in the same launch). The operands (ConvOperands.cs) decode a thread's pixel and
/// tap once and then walk them with compares and additions, so the main loops hold no integer division.
/// </summary>
internal static class ConvKernels
{
    [Kernel(grouped: true)]
    public static void Forward<TS>(Im2ColA a, WeightTB b, BiasC c) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, Im2ColA, WeightTB, BiasC>(a, b, c, a.G.N * a.G.OH * a.G.OW, a.G.Cout, a.G.Patch, 0);

    [Kernel(grouped: true)]
    public static void BackwardData<TS>(DyGatherA a, WeightTapB b, DenseC c) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, DyGatherA, WeightTapB, DenseC>(a, b, c, a.G.N * a.G.H * a.G.W, a.G.Cin, a.G.KH * a.G.KW * a.G.Cout, 0);

    /// <summary>dwᵀ and db, or, with <paramref name="kChunk"/> &gt; 0, one pixel range per grid z whose partials the last group of each tile sums into them.</summary>
    [Kernel(grouped: true)]
    public static void BackwardWeight<TS>(PatchRowsA a, DyB b, SplitKC<WeightGradC> c, int kChunk) where TS : struct, IGemmShape
    {
        GemmTile.Run<TS, SimtMath, PatchRowsA, DyB, SplitKC<WeightGradC>>(a, b, c, c.Out.Rows, a.G.Cout, a.G.N * a.G.OH * a.G.OW, kChunk);
        GemmSplitK.Reduce<TS, WeightGradC>(c);
    }
}
