namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// A register-blocked micro-kernel of <see cref="Sgemm.MR"/> rows × <see cref="NR"/> columns. The
/// blocked loops are generic over it, so each kernel gets its own compiled copy with NR a constant.
/// </summary>
internal unsafe interface IMicroKernel
{
    /// <summary>Micro-tile columns, the width of a packed B panel.</summary>
    static abstract int NR { get; }

    /// <summary>C[0..MR, 0..NR] = α·(packed A panel · packed B panel) + β·C, with β = 0 ignoring C.</summary>
    static abstract void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta);

    /// <summary>
    /// C[0..MR, 0..NR] = A·(B panel) + bias with A read in place: row r is the concatenation of
    /// <paramref name="segments"/> runs of <paramref name="len"/> floats starting at rows[s·MR + r]
    /// (an implicit im2col: each run is one kernel tap of one output pixel). <paramref name="bias"/>
    /// (NR floats) may be null.
    /// </summary>
    static abstract void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias);

    /// <summary>
    /// C[0..MR, 0..NR] = (C if <paramref name="accumulate"/>) + packed A panel · B, with B row p read in place
    /// at bRows[p] + <paramref name="bOffset"/> (NR floats): an implicit im2col on the B side.
    /// </summary>
    static abstract void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate);
}

/// <summary>The 6×16 AVX2 + FMA kernel.</summary>
internal readonly unsafe struct Avx2Kernel : IMicroKernel
{
    public static int NR => 16;

    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta) =>
        SgemmKernelAvx2.Run(kc, a, b, c, ldc, alpha, beta);

    public static void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias) =>
        SgemmKernelAvx2.RunRows(segments, len, rows, b, c, ldc, bias);

    public static void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate) =>
        SgemmKernelAvx2.RunGatherB(kc, a, bRows, bOffset, c, ldc, accumulate);
}

/// <summary>The 6×32 AVX-512F kernel.</summary>
internal readonly unsafe struct Avx512Kernel : IMicroKernel
{
    public static int NR => 32;

    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta) =>
        SgemmKernelAvx512.Run(kc, a, b, c, ldc, alpha, beta);

    public static void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias) =>
        SgemmKernelAvx512.RunRows(segments, len, rows, b, c, ldc, bias);

    public static void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate) =>
        SgemmKernelAvx512.RunGatherB(kc, a, bRows, bOffset, c, ldc, accumulate);
}

/// <summary>The hardware-neutral 6×16 <c>Vector&lt;float&gt;</c> kernel.</summary>
internal readonly unsafe struct PortableKernel : IMicroKernel
{
    public static int NR => 16;

    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta) =>
        SgemmKernelPortable.Run(kc, a, b, c, ldc, alpha, beta);

    public static void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias) =>
        SgemmKernelPortable.RunRows(segments, len, rows, b, c, ldc, bias);

    public static void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate) =>
        SgemmKernelPortable.RunGatherB(kc, a, bRows, bOffset, c, ldc, accumulate);
}
