using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Kernels;

/// <summary>How the tensor-core GEMM rounds its operands (a compile-time choice, like the tile shape).</summary>
internal interface ITf32Passes
{
    /// <summary>
    /// False: one mma per block on the TF32-rounded operands. True (3×TF32): each operand split into
    /// big = tf32(x) and small = tf32(x − big), and big·small + small·big + big·big accumulated, which
    /// leaves out only small·small (2⁻²² relative) and so recovers FP32 accuracy.
    /// </summary>
    bool Split { get; }
}

/// <summary>TF32: one mma per block, operands rounded to 10 mantissa bits.</summary>
internal struct Tf32Single : ITf32Passes
{
    public readonly bool Split => false;
}

/// <summary>3×TF32: three mma per block on the big and small halves of each operand.</summary>
internal struct Tf32Split : ITf32Passes
{
    public readonly bool Split => true;
}

/// <summary>
/// Where the tensor-core GEMM's mma runs, fixed at compile time so that each kernel holds one of the
/// two: the host launches <see cref="Mma"/> on CUDA and <see cref="MmaTwin"/> on the emulator. (ILGPU
/// does not fold <see cref="CudaAsm.IsSupported"/> before it lays out shared memory, so a run-time
/// test would leave the twin's exchange buffer and code in the PTX.)
/// </summary>
internal interface IMmaUnit
{
    /// <summary>True: inline PTX (<c>cvt.rna.tf32.f32</c>, <c>mma.sync</c>); false: the C# twin.</summary>
    bool Ptx { get; }
}

/// <summary>The tensor cores, through inline PTX: CUDA devices of compute capability 8.0 or newer.</summary>
internal struct Mma : IMmaUnit
{
    public readonly bool Ptx => true;
}

/// <summary>The C# twin of the mma, for accelerators without the instruction (the CPU emulator).</summary>
internal struct MmaTwin : IMmaUnit
{
    public readonly bool Ptx => false;
}

/// <summary>A lane's four raw FP32 elements of a 16 × 8 block of op(A), in the order of a0..a3.</summary>
internal struct RawA
{
    public float X0, X1, X2, X3;

    /// <summary>
    /// The elements at float <paramref name="i"/> of a [p][row] slab (a0: this lane's row and k), 8 rows on
    /// (a1), <paramref name="k4"/> = 4 k rows on (a2), and both (a3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RawA Load(ArrayView<float> s, int i, int k4) => new() { X0 = s[i], X1 = s[i + 8], X2 = s[i + k4], X3 = s[i + k4 + 8] };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly FragA Big(bool ptx) => new() { A0 = Tf32.Round(X0, ptx), A1 = Tf32.Round(X1, ptx), A2 = Tf32.Round(X2, ptx), A3 = Tf32.Round(X3, ptx) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly FragA Small(FragA big, bool ptx) =>
        new() { A0 = Tf32.Small(X0, big.A0, ptx), A1 = Tf32.Small(X1, big.A1, ptx), A2 = Tf32.Small(X2, big.A2, ptx), A3 = Tf32.Small(X3, big.A3, ptx) };
}

/// <summary>A lane's two raw FP32 elements of an 8 × 8 block of op(B), in the order of b0, b1.</summary>
internal struct RawB
{
    public float X0, X1;

    /// <summary>The elements at float <paramref name="i"/> of a [p][col] slab (b0: this lane's k and column) and <paramref name="k4"/> = 4 k rows on (b1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RawB Load(ArrayView<float> s, int i, int k4) => new() { X0 = s[i], X1 = s[i + k4] };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly FragB Big(bool ptx) => new() { B0 = Tf32.Round(X0, ptx), B1 = Tf32.Round(X1, ptx) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly FragB Small(FragB big, bool ptx) => new() { B0 = Tf32.Small(X0, big.B0, ptx), B1 = Tf32.Small(X1, big.B1, ptx) };
}

/// <summary>Registers a0..a3 of an m16n8k8 mma: TF32 bits.</summary>
internal struct FragA
{
    public uint A0, A1, A2, A3;
}

/// <summary>Registers b0, b1 of an m16n8k8 mma: TF32 bits.</summary>
internal struct FragB
{
    public uint B0, B1;
}

/// <summary>Registers c0..c3 (= d0..d3) of an m16n8k8 mma: a lane's four FP32 accumulators of a 16 × 8 block of C.</summary>
internal struct MmaTile
{
    public float C0, C1, C2, C3;
}

/// <summary>
/// The tensor-core arithmetic of the GEMM core: each warp's 64 × 32 block of C is 4 × 4 blocks of
/// 16 × 8, one <c>mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32</c> each per 8-deep slab (three
/// with <see cref="ITf32Passes.Split"/>), accumulated in FP32 registers. A lane loads its fragments
/// from the [p][row] and [p][col] slabs as scalar shared loads (a0 of A block i at k = threadID_in_group,
/// row = 16·i + groupID of the warp's rows, and so on; see <see cref="MmaLayout"/>); slab rows are padded
/// by 8 floats so that the 32 lanes' loads, at k·(width + 8) + groupID, fall in 32 distinct banks.
/// <para>
/// With <see cref="Mma"/> (CUDA) the operands are rounded by <c>cvt.rna.tf32.f32</c> and multiplied
/// by the inline mma. With <see cref="MmaTwin"/> the same code runs a twin: the same loads and
/// rounding (<see cref="Tf32.RoundBits"/>), then each warp scatters its lanes' registers into shared 16 × 8 and
/// 8 × 8 matrices by the ISA's fragment layout, and each lane computes its own d registers from them
/// as the mma defines them, d = c + Σₖ a·b over k = 0..7 in FP32 (the products of TF32 values are
/// exact in FP32; the hardware's order and rounding of that sum are not specified by the ISA, so the
/// twin fixes one). Only the twin has the exchange buffer (48 KB at 128 × 128 tiles, beside the
/// slabs' 17 KB: fine on the emulator, which has no shared-memory limit).
/// </para>
/// </summary>
internal struct TensorMath<TP, TU> : IGemmMath where TP : struct, ITf32Passes where TU : struct, IMmaUnit
{
    // Twin exchange per warp, in words: A as [part][block][16 × 8], then B as [part][block][8 × 8]; part 1 holds the small halves.
    private const int ABlock = 16 * 8, BBlock = 8 * 8, AWords = 2 * 4 * ABlock, WarpWords = AWords + 2 * 4 * BBlock;

    private MmaTile _t00, _t01, _t02, _t03, _t10, _t11, _t12, _t13, _t20, _t21, _t22, _t23, _t30, _t31, _t32, _t33;
    private int _lane, _warpRow, _warpCol, _exchange;
    private ArrayView<uint> _x;

    public readonly int Pad => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start<TS>(int t) where TS : struct, IGemmShape
    {
        var s = default(TS);
        int warp = t >> 5;
        _lane = t & 31;
        _warpRow = warp / s.WarpsN * 64;
        _warpCol = (warp & (s.WarpsN - 1)) * 32;
        _exchange = warp * WarpWords;
        _x = SharedMemory.Allocate<uint>(default(TU).Ptx ? 1 : WarpWords * s.WarpsM * s.WarpsN);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Slab(ArrayView<float> sa, ArrayView<Float4> sa4, ArrayView<float> sb, ArrayView<Float4> sb4, int aBuf, int bBuf, int lda, int ldb)
    {
        bool split = default(TP).Split, ptx = default(TU).Ptx;
        int g = _lane >> 2, q = _lane & 3;
        int a = aBuf + q * lda + _warpRow + g, b = bBuf + q * ldb + _warpCol + g, ak4 = 4 * lda, bk4 = 4 * ldb;
        RawA ra0 = RawA.Load(sa, a, ak4), ra1 = RawA.Load(sa, a + 16, ak4), ra2 = RawA.Load(sa, a + 32, ak4), ra3 = RawA.Load(sa, a + 48, ak4);
        RawB rb0 = RawB.Load(sb, b, bk4), rb1 = RawB.Load(sb, b + 8, bk4), rb2 = RawB.Load(sb, b + 16, bk4), rb3 = RawB.Load(sb, b + 24, bk4);
        FragA ha0 = ra0.Big(ptx), ha1 = ra1.Big(ptx), ha2 = ra2.Big(ptx), ha3 = ra3.Big(ptx);
        FragB hb0 = rb0.Big(ptx), hb1 = rb1.Big(ptx), hb2 = rb2.Big(ptx), hb3 = rb3.Big(ptx);
        FragA la0 = default, la1 = default, la2 = default, la3 = default;
        FragB lb0 = default, lb1 = default, lb2 = default, lb3 = default;
        if (split)
        {
            la0 = ra0.Small(ha0, ptx);
            la1 = ra1.Small(ha1, ptx);
            la2 = ra2.Small(ha2, ptx);
            la3 = ra3.Small(ha3, ptx);
            lb0 = rb0.Small(hb0, ptx);
            lb1 = rb1.Small(hb1, ptx);
            lb2 = rb2.Small(hb2, ptx);
            lb3 = rb3.Small(hb3, ptx);
        }
        if (ptx)
        {
            // Small terms first, so the largest product is added last to the running sum.
            if (split)
            {
                Product(ha0, ha1, ha2, ha3, lb0, lb1, lb2, lb3);
                Product(la0, la1, la2, la3, hb0, hb1, hb2, hb3);
            }
            Product(ha0, ha1, ha2, ha3, hb0, hb1, hb2, hb3);
            return;
        }
        ScatterA(ha0, 0, 0);
        ScatterA(ha1, 0, 1);
        ScatterA(ha2, 0, 2);
        ScatterA(ha3, 0, 3);
        ScatterB(hb0, 0, 0);
        ScatterB(hb1, 0, 1);
        ScatterB(hb2, 0, 2);
        ScatterB(hb3, 0, 3);
        if (split)
        {
            ScatterA(la0, 1, 0);
            ScatterA(la1, 1, 1);
            ScatterA(la2, 1, 2);
            ScatterA(la3, 1, 3);
            ScatterB(lb0, 1, 0);
            ScatterB(lb1, 1, 1);
            ScatterB(lb2, 1, 2);
            ScatterB(lb3, 1, 3);
        }
        // The next writes to the exchange come after the core's barrier at the end of this slab.
        Group.Barrier();
        if (split)
        {
            TwinProduct(0, 1);
            TwinProduct(1, 0);
        }
        TwinProduct(0, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store<TC>(ref TC c, int z, int row0, int col0, int m, int n) where TC : struct, IGemmC
    {
        // c0, c1 at row groupID and columns 2·threadID_in_group + 0, 1; c2, c3 eight rows down.
        int r = row0 + _warpRow + (_lane >> 2), col = col0 + _warpCol + 2 * (_lane & 3);
        StoreTile(ref c, z, r, col, m, n, _t00);
        StoreTile(ref c, z, r, col + 8, m, n, _t01);
        StoreTile(ref c, z, r, col + 16, m, n, _t02);
        StoreTile(ref c, z, r, col + 24, m, n, _t03);
        StoreTile(ref c, z, r + 16, col, m, n, _t10);
        StoreTile(ref c, z, r + 16, col + 8, m, n, _t11);
        StoreTile(ref c, z, r + 16, col + 16, m, n, _t12);
        StoreTile(ref c, z, r + 16, col + 24, m, n, _t13);
        StoreTile(ref c, z, r + 32, col, m, n, _t20);
        StoreTile(ref c, z, r + 32, col + 8, m, n, _t21);
        StoreTile(ref c, z, r + 32, col + 16, m, n, _t22);
        StoreTile(ref c, z, r + 32, col + 24, m, n, _t23);
        StoreTile(ref c, z, r + 48, col, m, n, _t30);
        StoreTile(ref c, z, r + 48, col + 8, m, n, _t31);
        StoreTile(ref c, z, r + 48, col + 16, m, n, _t32);
        StoreTile(ref c, z, r + 48, col + 24, m, n, _t33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile<TC>(ref TC c, int z, int row, int col, int m, int n, MmaTile t) where TC : struct, IGemmC
    {
        if (row < m)
        {
            if (col < n) c.Store(z, row, col, t.C0);
            if (col + 1 < n) c.Store(z, row, col + 1, t.C1);
        }
        if (row + 8 < m)
        {
            if (col < n) c.Store(z, row + 8, col, t.C2);
            if (col + 1 < n) c.Store(z, row + 8, col + 1, t.C3);
        }
    }

    /// <summary>The 16 mma of one pass: A blocks a0..a3 (rows 0, 16, 32, 48 of the warp's block) by B blocks b0..b3 (columns 0, 8, 16, 24).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Product(FragA a0, FragA a1, FragA a2, FragA a3, FragB b0, FragB b1, FragB b2, FragB b3)
    {
        Mma(ref _t00, a0, b0);
        Mma(ref _t01, a0, b1);
        Mma(ref _t02, a0, b2);
        Mma(ref _t03, a0, b3);
        Mma(ref _t10, a1, b0);
        Mma(ref _t11, a1, b1);
        Mma(ref _t12, a1, b2);
        Mma(ref _t13, a1, b3);
        Mma(ref _t20, a2, b0);
        Mma(ref _t21, a2, b1);
        Mma(ref _t22, a2, b2);
        Mma(ref _t23, a2, b3);
        Mma(ref _t30, a3, b0);
        Mma(ref _t31, a3, b1);
        Mma(ref _t32, a3, b2);
        Mma(ref _t33, a3, b3);
    }

    /// <summary>d = a·b + d on the tensor cores (ILGPU passes the operands of EmitRef through per-call locals, which ptxas is left to keep in registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mma(ref MmaTile d, FragA a, FragB b)
    {
        Ref<float> d0 = d.C0, d1 = d.C1, d2 = d.C2, d3 = d.C3;
        Input<uint> a0 = a.A0, a1 = a.A1, a2 = a.A2, a3 = a.A3, b0 = b.B0, b1 = b.B1;
        CudaAsm.EmitRef(
            "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1);
        d.C0 = d0.Value;
        d.C1 = d1.Value;
        d.C2 = d2.Value;
        d.C3 = d3.Value;
    }

    /// <summary>Twin: this lane's a0..a3 of A block <paramref name="block"/>, half <paramref name="part"/>, into the warp's 16 × 8 matrix at the ISA's positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void ScatterA(FragA f, int part, int block)
    {
        int at = _exchange + (part * 4 + block) * ABlock;
        _x[at + MmaLayout.ARow(_lane, 0) * 8 + MmaLayout.ACol(_lane, 0)] = f.A0;
        _x[at + MmaLayout.ARow(_lane, 1) * 8 + MmaLayout.ACol(_lane, 1)] = f.A1;
        _x[at + MmaLayout.ARow(_lane, 2) * 8 + MmaLayout.ACol(_lane, 2)] = f.A2;
        _x[at + MmaLayout.ARow(_lane, 3) * 8 + MmaLayout.ACol(_lane, 3)] = f.A3;
    }

    /// <summary>Twin: this lane's b0, b1 of B block <paramref name="block"/>, half <paramref name="part"/>, into the warp's 8 × 8 matrix ([k][n]) at the ISA's positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void ScatterB(FragB f, int part, int block)
    {
        int at = _exchange + AWords + (part * 4 + block) * BBlock;
        _x[at + MmaLayout.BRow(_lane, 0) * 8 + MmaLayout.BCol(_lane)] = f.B0;
        _x[at + MmaLayout.BRow(_lane, 1) * 8 + MmaLayout.BCol(_lane)] = f.B1;
    }

    /// <summary>Twin of <see cref="Product"/> on the exchanged matrices: A half <paramref name="aPart"/> by B half <paramref name="bPart"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TwinProduct(int aPart, int bPart)
    {
        int a = _exchange + aPart * 4 * ABlock, b = _exchange + AWords + bPart * 4 * BBlock;
        TwinMma(ref _t00, a, b);
        TwinMma(ref _t01, a, b + BBlock);
        TwinMma(ref _t02, a, b + 2 * BBlock);
        TwinMma(ref _t03, a, b + 3 * BBlock);
        TwinMma(ref _t10, a + ABlock, b);
        TwinMma(ref _t11, a + ABlock, b + BBlock);
        TwinMma(ref _t12, a + ABlock, b + 2 * BBlock);
        TwinMma(ref _t13, a + ABlock, b + 3 * BBlock);
        TwinMma(ref _t20, a + 2 * ABlock, b);
        TwinMma(ref _t21, a + 2 * ABlock, b + BBlock);
        TwinMma(ref _t22, a + 2 * ABlock, b + 2 * BBlock);
        TwinMma(ref _t23, a + 2 * ABlock, b + 3 * BBlock);
        TwinMma(ref _t30, a + 3 * ABlock, b);
        TwinMma(ref _t31, a + 3 * ABlock, b + BBlock);
        TwinMma(ref _t32, a + 3 * ABlock, b + 2 * BBlock);
        TwinMma(ref _t33, a + 3 * ABlock, b + 3 * BBlock);
    }

    /// <summary>Twin of one mma: this lane's d registers, each at the ISA's (row, column) of the 16 × 8 block, from the exchanged A at <paramref name="a"/> and B at <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void TwinMma(ref MmaTile d, int a, int b)
    {
        d.C0 = TwinDot(a, b, MmaLayout.CRow(_lane, 0), MmaLayout.CCol(_lane, 0), d.C0);
        d.C1 = TwinDot(a, b, MmaLayout.CRow(_lane, 1), MmaLayout.CCol(_lane, 1), d.C1);
        d.C2 = TwinDot(a, b, MmaLayout.CRow(_lane, 2), MmaLayout.CCol(_lane, 2), d.C2);
        d.C3 = TwinDot(a, b, MmaLayout.CRow(_lane, 3), MmaLayout.CCol(_lane, 3), d.C3);
    }

    /// <summary>c + Σₖ A[row, k]·B[k, col] over k = 0..7, in k order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly float TwinDot(int a, int b, int row, int col, float c)
    {
        float d = c;
        for (int k = 0; k < 8; k++) d += Tf32.Value(_x[a + row * 8 + k]) * Tf32.Value(_x[b + k * 8 + col]);
        return d;
    }
}
