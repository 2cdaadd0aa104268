using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// A position (kh, kw, c) in a flattened patch, tap-major: p = (kh·KW + kw)·C + c over the C channels
/// of the tensor the patch is read from. Decoded once (<see cref="At"/>), then moved with compares
/// and additions; one past the last tap it reads kh = KH, kw = 0, c = 0.
/// </summary>
internal struct TapPos
{
    public int Kh, Kw, C;

    /// <summary>The position of p (divides: only for cursors being started, before the main loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TapPos At(int p, int channels, int kw)
    {
        int tap = p / channels, kh = tap / kw;
        return new TapPos { Kh = kh, Kw = tap - kh * kw, C = p - tap * channels };
    }

    /// <summary>The next element: the next channel, or the first channel of the next tap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step(int channels, int kw)
    {
        if (++C < channels) return;
        C = 0;
        NextTap(kw);
    }

    /// <summary>
    /// <see cref="GemmTile.BK"/> elements on. With 8 or more channels that crosses at most one tap;
    /// tensors with fewer (the one to three channels of an image) cross several, one pass each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int channels, int kw)
    {
        C += GemmTile.BK;
        while (C >= channels)
        {
            C -= channels;
            NextTap(kw);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NextTap(int kw)
    {
        if (++Kw < kw) return;
        Kw = 0;
        Kh++;
    }
}

/// <summary>
/// Forward A: the implicit im2col matrix of x, [N·OH·OW, KH·KW·Cin]. A cursor holds one output
/// pixel, decoded once into its image and the top-left corner of its window, and a patch position.
/// </summary>
internal struct Im2ColA : IGemmA
{
    public ArrayView<float> X;
    public ConvShape G;
    private int _image, _ih, _iw;
    private TapPos _tap;

    public readonly bool KFast => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int row, int p)
    {
        int rest = row / G.OW, n = rest / G.OH;
        _image = n * G.H * G.W * G.Cin;
        _ih = (rest - n * G.OH) * G.SH - G.PH;
        _iw = (row - rest * G.OW) * G.SW - G.PW;
        _tap = TapPos.At(p, G.Cin, G.KW);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count)
    {
        // With Cin a multiple of 4 a run never straddles two taps: one bounds check, one 128-bit load.
        if (count == 4 && (G.Cin & 3) == 0)
        {
            int i = Index(_tap);
            return i >= 0 ? Float4.Load(X, i) : default;
        }
        var q = _tap;
        var v = default(Float4);
        if (count > 0) v.X = Read(q);
        q.Step(G.Cin, G.KW);
        if (count > 1) v.Y = Read(q);
        q.Step(G.Cin, G.KW);
        if (count > 2) v.Z = Read(q);
        q.Step(G.Cin, G.KW);
        if (count > 3) v.W = Read(q);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance() => _tap.Skip(G.Cin, G.KW);

    /// <summary>Index in x of this pixel's element at <paramref name="q"/>, or -1 in the padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int Index(TapPos q)
    {
        int ih = _ih + q.Kh, iw = _iw + q.Kw;
        return ih >= 0 && ih < G.H && iw >= 0 && iw < G.W ? _image + (ih * G.W + iw) * G.Cin + q.C : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly float Read(TapPos q)
    {
        int i = Index(q);
        return i >= 0 ? X[i] : 0f;
    }
}

/// <summary>Forward B: the weight [Cout, KH·KW·Cin] read transposed, op(B)[p, co]; the cursor is an index.</summary>
internal struct WeightTB : IGemmB
{
    public ArrayView<float> Weight;
    public int Patch;
    private int _at;

    public readonly bool KFast => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int p, int co) => _at = co * Patch + p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count) => Float4.Load(Weight, _at, count, (Patch & 3) == 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance() => _at += GemmTile.BK;
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
/// Data-gradient A: [N·H·W, KH·KW·Cout], element (input pixel (n, ih, iw), (kh, kw, co)) is the dy of
/// the output pixel whose tap (kh, kw) reads that input, or zero when no output does (stride gaps,
/// borders). The output row of tap kh is (ih + PH − kh)/SH when that divides exactly; the cursor keeps
/// it as a quotient and remainder (Oh, Rh) that step down with kh, and likewise (Ow, Rw) with kw, so
/// the stride costs compares rather than divisions.
/// </summary>
internal struct DyGatherA : IGemmA
{
    public ArrayView<float> Dy;
    public ConvShape G;
    private int _image, _oh, _rh, _ow, _rw, _ow0, _rw0;
    private TapPos _tap;

    public readonly bool KFast => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int pixel, int p)
    {
        int rest = pixel / G.W, n = rest / G.H;
        int th = rest - n * G.H + G.PH, tw = pixel - rest * G.W + G.PW;
        _image = n * G.OH * G.OW * G.Cout;
        _tap = TapPos.At(p, G.Cout, G.KW);
        FloorDivMod(tw, G.SW, out _ow0, out _rw0);
        FloorDivMod(th - _tap.Kh, G.SH, out _oh, out _rh);
        FloorDivMod(tw - _tap.Kw, G.SW, out _ow, out _rw);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count)
    {
        if (count == 4 && (G.Cout & 3) == 0)
        {
            int i = Index(_tap, _oh, _rh, _ow, _rw);
            return i >= 0 ? Float4.Load(Dy, i) : default;
        }
        var q = _tap;
        int oh = _oh, rh = _rh, ow = _ow, rw = _rw;
        var v = default(Float4);
        if (count > 0) v.X = Read(q, oh, rh, ow, rw);
        Step(ref q, ref oh, ref rh, ref ow, ref rw);
        if (count > 1) v.Y = Read(q, oh, rh, ow, rw);
        Step(ref q, ref oh, ref rh, ref ow, ref rw);
        if (count > 2) v.Z = Read(q, oh, rh, ow, rw);
        Step(ref q, ref oh, ref rh, ref ow, ref rw);
        if (count > 3) v.W = Read(q, oh, rh, ow, rw);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance()
    {
        _tap.C += GemmTile.BK;
        while (_tap.C >= G.Cout)
        {
            _tap.C -= G.Cout;
            NextTap(ref _tap, ref _oh, ref _rh, ref _ow, ref _rw);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Step(ref TapPos q, ref int oh, ref int rh, ref int ow, ref int rw)
    {
        if (++q.C < G.Cout) return;
        q.C = 0;
        NextTap(ref q, ref oh, ref rh, ref ow, ref rw);
    }

    /// <summary>kw + 1 lowers the output column by 1/SW; wrapping to kw = 0 restores it, and kh + 1 lowers the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void NextTap(ref TapPos q, ref int oh, ref int rh, ref int ow, ref int rw)
    {
        if (++q.Kw < G.KW)
        {
            if (--rw < 0) { rw += G.SW; ow--; }
            return;
        }
        q.Kw = 0;
        q.Kh++;
        ow = _ow0;
        rw = _rw0;
        if (--rh < 0) { rh += G.SH; oh--; }
    }

    /// <summary>Index in dy of the element, or -1 where it is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int Index(TapPos q, int oh, int rh, int ow, int rw) =>
        rh == 0 && rw == 0 && oh >= 0 && oh < G.OH && ow >= 0 && ow < G.OW ? _image + (oh * G.OW + ow) * G.Cout + q.C : -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly float Read(TapPos q, int oh, int rh, int ow, int rw)
    {
        int i = Index(q, oh, rh, ow, rw);
        return i >= 0 ? Dy[i] : 0f;
    }

    /// <summary>t = q·s + r with 0 ≤ r &lt; s for negative t too (start only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FloorDivMod(int t, int s, out int q, out int r)
    {
        q = t / s;
        r = t - q * s;
        if (r < 0) { r += s; q--; }
    }
}

/// <summary>
/// Data-gradient B: op(B)[(kh, kw, co), ci] = w[co, kh, kw, ci]; the cursor keeps co and the tap of
/// its k index and carries co into the tap as it advances.
/// </summary>
internal struct WeightTapB : IGemmB
{
    public ArrayView<float> Weight;
    public ConvShape G;
    private int _co, _tap, _ci;

    public readonly bool KFast => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int p, int ci)
    {
        _tap = p / G.Cout;
        _co = p - _tap * G.Cout;
        _ci = ci;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count) =>
        Float4.Load(Weight, (_co * G.KH * G.KW + _tap) * G.Cin + _ci, count, (G.Cin & 3) == 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance()
    {
        _co += GemmTile.BK;
        while (_co >= G.Cout)
        {
            _co -= G.Cout;
            _tap++;
        }
    }
}

/// <summary>
/// Weight-gradient A: the implicit im2col matrix read transposed, op(A)[p, pixel], plus, when the
/// product has KH·KW·Cin + 1 rows, a last row of ones (whose product with dy is the bias gradient).
/// A cursor holds four patch positions, fixed, and one output pixel that advances along k.
/// </summary>
internal struct PatchRowsA : IGemmA
{
    public ArrayView<float> X;
    public ConvShape G;
    private int _n, _oh, _ow;
    private TapPos _tap;

    public readonly bool KFast => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int row, int pixel)
    {
        int rest = pixel / G.OW;
        _n = rest / G.OH;
        _oh = rest - _n * G.OH;
        _ow = pixel - rest * G.OW;
        _tap = TapPos.At(row, G.Cin, G.KW);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count)
    {
        // Four rows of one tap when Cin is a multiple of 4 (then the row of ones, at a multiple of 4,
        // starts a run of its own and is never among four).
        if (count == 4 && (G.Cin & 3) == 0)
        {
            int i = Index(_tap);
            return i >= 0 ? Float4.Load(X, i) : default;
        }
        var q = _tap;
        var v = default(Float4);
        if (count > 0) v.X = Read(q);
        q.Step(G.Cin, G.KW);
        if (count > 1) v.Y = Read(q);
        q.Step(G.Cin, G.KW);
        if (count > 2) v.Z = Read(q);
        q.Step(G.Cin, G.KW);
        if (count > 3) v.W = Read(q);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance()
    {
        _ow += GemmTile.BK;
        while (_ow >= G.OW)
        {
            _ow -= G.OW;
            if (++_oh < G.OH) continue;
            _oh = 0;
            _n++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int Index(TapPos q)
    {
        int ih = _oh * G.SH - G.PH + q.Kh, iw = _ow * G.SW - G.PW + q.Kw;
        return ih >= 0 && ih < G.H && iw >= 0 && iw < G.W ? ((_n * G.H + ih) * G.W + iw) * G.Cin + q.C : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly float Read(TapPos q)
    {
        if (q.Kh == G.KH) return 1f;
        int i = Index(q);
        return i >= 0 ? X[i] : 0f;
    }
}

/// <summary>Weight-gradient B: dy [N·OH·OW, Cout] as op(B)[pixel, co]; the cursor is an index.</summary>
internal struct DyB : IGemmB
{
    public ArrayView<float> Dy;
    public int Cout;
    private int _at;

    public readonly bool KFast => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int pixel, int co) => _at = pixel * Cout + co;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count) => Float4.Load(Dy, _at, count, (Cout & 3) == 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance() => _at += GemmTile.BK * Cout;
}

/// <summary>
/// Weight-gradient epilogue of the [Rows, Cout] product: row p &lt; Patch is dw[co, p] (the product is
/// dw transposed), row Patch (present when Rows = Patch + 1) is db[co].
/// </summary>
internal struct WeightGradC : IGemmC
{
    public ArrayView<float> Dw, Db;
    public int Patch, Rows, Cout;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int z, int row, int co, float acc)
    {
        if (row < Patch) Dw[co * Patch + row] = acc;
        else Db[co] = acc;
    }
}
