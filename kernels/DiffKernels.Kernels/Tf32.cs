using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Kernels;

/// <summary>
/// TF32, the operand format of the tensor-core mma: FP32's sign and 8-bit exponent with 10 mantissa
/// bits, held as an FP32 encoding whose low 13 bits are zero. Conversions return those bits.
/// </summary>
internal static class Tf32
{
    /// <summary>
    /// <paramref name="x"/> rounded to TF32, to nearest with ties away from zero: <c>cvt.rna.tf32.f32</c>
    /// when <paramref name="ptx"/> (a compile-time constant: the CUDA kernel), else <see cref="RoundBits"/>
    /// (the twin that the emulator runs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(float x, bool ptx)
    {
        if (ptx)
        {
            CudaAsm.Emit("cvt.rna.tf32.f32 %0, %1;", out uint r, x);
            return r;
        }
        return RoundBits(x);
    }

    /// <summary>
    /// The rounding of <c>cvt.rna.tf32.f32</c> in integer arithmetic: half a unit of the last kept bit
    /// (bit 13) is added to the sign-magnitude encoding, so ties move away from zero and a carry runs
    /// into the exponent (past the largest TF32, to infinity), then the low 13 bits are cleared.
    /// Infinities stay; a NaN becomes the canonical NaN (a payload in the low bits alone would
    /// otherwise round to infinity).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RoundBits(float x)
    {
        uint u = Interop.FloatAsInt(x);
        if ((u & 0x7F800000u) == 0x7F800000u) return (u & 0x007FFFFFu) != 0 ? 0x7FFFFFFFu : u;
        return (u + 0x1000u) & 0xFFFFE000u;
    }

    /// <summary>
    /// The small half of the 3×TF32 split of <paramref name="x"/> whose big half is <paramref name="big"/>
    /// (= <see cref="Round"/>(x)): tf32(x − big), rounded as <see cref="Round"/> does. The difference is exact in FP32 (it has at most 13
    /// significant bits), so big + small is x up to the rounding of the remainder, 2⁻²² relative.
    /// Non-finite x leaves a NaN here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Small(float x, uint big, bool ptx) => Round(x - Value(big), ptx);

    /// <summary>The float that TF32 bits encode.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Value(uint bits) => Interop.IntAsFloat(bits);
}

/// <summary>
/// Which elements of the operands of <c>mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32</c> each lane
/// holds, as the PTX ISA's "Matrix Fragments for mma.m16n8k8" gives them for .tf32, with groupID =
/// laneid &gt;&gt; 2 and threadID_in_group = laneid % 4. The emulator's twin places fragments by these
/// functions; the loads and stores of the tensor-core path use their own address arithmetic, so the
/// twin's results check one against the other.
/// </summary>
internal static class MmaLayout
{
    /// <summary>Row of A (16 × 8) held in register a<paramref name="i"/>: groupID for a0 and a2, groupID + 8 for a1 and a3.</summary>
    public static int ARow(int lane, int i) => (lane >> 2) + (i == 1 || i == 3 ? 8 : 0);

    /// <summary>Column (k) of A in a<paramref name="i"/>: threadID_in_group for a0 and a1, threadID_in_group + 4 for a2 and a3.</summary>
    public static int ACol(int lane, int i) => (lane & 3) + (i >= 2 ? 4 : 0);

    /// <summary>Row (k) of B (8 × 8) in b<paramref name="i"/>: threadID_in_group for b0, threadID_in_group + 4 for b1.</summary>
    public static int BRow(int lane, int i) => (lane & 3) + (i == 1 ? 4 : 0);

    /// <summary>Column of B in b0 and b1: groupID.</summary>
    public static int BCol(int lane) => lane >> 2;

    /// <summary>Row of C and D (16 × 8) in c<paramref name="i"/>: groupID for c0 and c1, groupID + 8 for c2 and c3.</summary>
    public static int CRow(int lane, int i) => (lane >> 2) + (i >= 2 ? 8 : 0);

    /// <summary>Column of C and D in c<paramref name="i"/>: threadID_in_group · 2 + (i &amp; 1).</summary>
    public static int CCol(int lane, int i) => (lane & 3) * 2 + (i & 1);
}
