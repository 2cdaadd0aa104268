using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Geometry of an NHWC convolution (see Conv2dGeometry on the host), with the output size precomputed.</summary>
internal struct ConvShape
{
    public int N, H, W, Cin, Cout, KH, KW, SH, SW, PH, PW, OH, OW;

    /// <summary>KH·KW·Cin: one flattened patch, one row of the flattened weight.</summary>
    public readonly int Patch => KH * KW * Cin;

    /// <summary>
    /// Element (pixel, p) of the implicit im2col matrix: pixel = (n, oh, ow) of the output, p = (kh, kw, ci)
    /// of the patch; zero where the tap falls in the padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Im2Col(ArrayView<float> x, int pixel, int p)
    {
        int ow = pixel % OW, rest = pixel / OW;
        int oh = rest % OH, n = rest / OH;
        int ci = p % Cin, tap = p / Cin;
        int kw = tap % KW, kh = tap / KW;
        int ih = oh * SH - PH + kh, iw = ow * SW - PW + kw;
        return ih >= 0 && ih < H && iw >= 0 && iw < W ? x[((n * H + ih) * W + iw) * Cin + ci] : 0f;
    }

    /// <summary>Elements (pixel, p..p+3), p a multiple of 4 and Cin too, so all four share one tap: one index decomposition, one 128-bit load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Im2Col4(ArrayView<float> x, int pixel, int p)
    {
        int ow = pixel % OW, rest = pixel / OW;
        int oh = rest % OH, n = rest / OH;
        int ci = p % Cin, tap = p / Cin;
        int kw = tap % KW, kh = tap / KW;
        int ih = oh * SH - PH + kh, iw = ow * SW - PW + kw;
        return ih >= 0 && ih < H && iw >= 0 && iw < W ? Float4.Load(x, ((n * H + ih) * W + iw) * Cin + ci) : default;
    }
}

/// <summary>Forward A: the implicit im2col matrix of x, [N·OH·OW, KH·KW·Cin].</summary>
internal struct Im2ColA : IGemmA
{
    public ArrayView<float> X;
    public ConvShape G;

    public readonly bool KFast => true;
    public readonly bool Vector => G.Cin % 4 == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int row, int p) => G.Im2Col(X, row, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int row, int p) => G.Im2Col4(X, row, p);
}

/// <summary>Weight-gradient B: the implicit im2col matrix read as op(B)[pixel, p].</summary>
internal struct Im2ColB : IGemmB
{
    public ArrayView<float> X;
    public ConvShape G;

    // k runs over pixels; the patch index (the column) is the contiguous one.
    public readonly bool KFast => false;
    public readonly bool Vector => G.Cin % 4 == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int pixel, int p) => G.Im2Col(X, pixel, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int pixel, int p) => G.Im2Col4(X, pixel, p);
}

/// <summary>Forward B: the weight [Cout, KH·KW·Cin] read transposed, op(B)[p, co].</summary>
internal struct WeightTB : IGemmB
{
    public ArrayView<float> Weight;
    public int Patch;

    public readonly bool KFast => true;
    public readonly bool Vector => Patch % 4 == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int p, int co) => Weight[co * Patch + p];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int p, int co) => Float4.Load(Weight, co * Patch + p);
}

/// <summary>Forward epilogue: y[pixel, co] = acc + bias[co] (no bias when HasBias is 0).</summary>
internal struct BiasC : IGemmC
{
    public ArrayView<float> Y, Bias;
    public int Cout;
    public int HasBias;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int z, int pixel, int co, float acc) => Y[pixel * Cout + co] = HasBias != 0 ? acc + Bias[co] : acc;
}

/// <summary>
/// Data-gradient A: [N·H·W, KH·KW·Cout], element (input pixel (n, ih, iw), (kh, kw, co)) is the dy of the
/// output pixel whose tap (kh, kw) reads that input, or zero when no output does (stride gaps, borders).
/// </summary>
internal struct DyGatherA : IGemmA
{
    public ArrayView<float> Dy;
    public ConvShape G;

    public readonly bool KFast => true;
    public readonly bool Vector => G.Cout % 4 == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int pixel, int p)
    {
        int i = Source(pixel, p);
        return i >= 0 ? Dy[i] : 0f;
    }

    /// <summary>Elements (pixel, p..p+3), which share one tap when Cout is a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int pixel, int p)
    {
        int i = Source(pixel, p);
        return i >= 0 ? Float4.Load(Dy, i) : default;
    }

    /// <summary>Index of the dy element behind (pixel, p), or -1 where the element is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int Source(int pixel, int p)
    {
        int iw = pixel % G.W, rest = pixel / G.W;
        int ih = rest % G.H, n = rest / G.H;
        int co = p % G.Cout, tap = p / G.Cout;
        int kw = tap % G.KW, kh = tap / G.KW;
        int th = ih + G.PH - kh, tw = iw + G.PW - kw;
        if (th < 0 || tw < 0 || th % G.SH != 0 || tw % G.SW != 0) return -1;
        int oh = th / G.SH, ow = tw / G.SW;
        return oh < G.OH && ow < G.OW ? ((n * G.OH + oh) * G.OW + ow) * G.Cout + co : -1;
    }
}

/// <summary>Data-gradient B: op(B)[(kh, kw, co), ci] = w[co, kh, kw, ci].</summary>
internal struct WeightTapB : IGemmB
{
    public ArrayView<float> Weight;
    public ConvShape G;

    public readonly bool KFast => false;
    public readonly bool Vector => G.Cin % 4 == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int p, int ci) => Weight[Index(p, ci)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int p, int ci) => Float4.Load(Weight, Index(p, ci));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int Index(int p, int ci)
    {
        int co = p % G.Cout, tap = p / G.Cout;
        return (co * G.KH * G.KW + tap) * G.Cin + ci;
    }
}

/// <summary>Weight-gradient A: dy [N·OH·OW, Cout] read transposed, op(A)[co, pixel].</summary>
internal struct DyTA : IGemmA
{
    public ArrayView<float> Dy;
    public int Cout;

    public readonly bool KFast => false;
    public readonly bool Vector => Cout % 4 == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int co, int pixel) => Dy[pixel * Cout + co];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int co, int pixel) => Float4.Load(Dy, pixel * Cout + co);
}

/// <summary>
/// Convolutions as implicit GEMMs on NHWC over the shared tiled core: forward
/// [N·OH·OW, Cout] = im2col(x)·wᵀ, data gradient [N·H·W, Cin] = gather(dy)·w, weight gradient
/// [Cout, KH·KW·Cin] = dyᵀ·im2col(x) (split over pixels when there are few output tiles).
/// </summary>
internal static class ConvKernels
{
    [Kernel(grouped: true)]
    public static void Forward<TS>(Im2ColA a, WeightTB b, BiasC c) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, Im2ColA, WeightTB, BiasC>(a, b, c, a.G.N * a.G.OH * a.G.OW, a.G.Cout, a.G.Patch, 0);

    [Kernel(grouped: true)]
    public static void BackwardData<TS>(DyGatherA a, WeightTapB b, DenseC c) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, DyGatherA, WeightTapB, DenseC>(a, b, c, a.G.N * a.G.H * a.G.W, a.G.Cin, a.G.KH * a.G.KW * a.G.Cout, 0);

    /// <summary>dw (or, with <paramref name="kChunk"/> &gt; 0, one pixel range per grid z into a workspace).</summary>
    [Kernel(grouped: true)]
    public static void BackwardWeight<TS>(DyTA a, Im2ColB b, DenseC c, int kChunk) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, DyTA, Im2ColB, DenseC>(a, b, c, b.G.Cout, b.G.Patch, b.G.N * b.G.OH * b.G.OW, kChunk);
}
