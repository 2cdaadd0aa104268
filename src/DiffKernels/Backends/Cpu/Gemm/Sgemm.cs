using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// Blocked single-precision GEMM in the Goto/BLIS structure: C is cut into tiles of at most
/// <see cref="MC"/> rows × a column block; each tile walks k in steps of <see cref="KC"/>, packs its
/// slice of op(A) into MR-row panels and of op(B) into NR-column panels (all transposes and zero
/// padding happen there), then sweeps MR×NR micro-tiles with a register-blocked kernel.
/// Tiles are independent, so they are spread over cores; each worker packs into its own buffers.
/// </summary>
internal static unsafe class Sgemm
{
    /// <summary>Micro-tile rows (A panel height).</summary>
    public const int MR = 6;

    /// <summary>Micro-tile columns (B panel width): two 8-float vectors.</summary>
    public const int NR = 16;

    /// <summary>Rows of a tile: its packed A block (MC×KC) stays in L2.</summary>
    public const int MC = 24 * MR;

    /// <summary>Depth of one packed step: a KC×NR B panel (16 KiB) stays in L1.</summary>
    public const int KC = 256;

    /// <summary>Widest column block of a tile (a multiple of NR).</summary>
    public const int NC = 64 * NR;

    /// <summary>True when the AVX2 + FMA micro-kernel can run on this machine.</summary>
    public static bool Avx2Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Selects the AVX2 + FMA micro-kernel (when supported) or the portable <c>Vector&lt;float&gt;</c>
    /// one; tests flip it to cover both.
    /// </summary>
    internal static bool UseAvx2 { get; set; } = Avx2Supported;

    [ThreadStatic] private static float[]? _packA;
    [ThreadStatic] private static float[]? _packB;

    /// <summary>The batched strided GEMM of <see cref="IBackend.Gemm"/> on arrays (arguments already validated).</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, long aOffset, int lda, float[] b, long bOffset, int ldb, float beta,
        float[] c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC)
    {
        if (m <= 0 || n <= 0 || batch <= 0) return;
        if (k == 0 || alpha == 0)
        {
            ScaleOnly(m, n, beta, c, cOffset, ldc, batch, strideC);
            return;
        }
        int mBlocks = (m + MC - 1) / MC;
        // Narrower column blocks when there are too few tiles to keep every core busy.
        int nb = NC;
        while (nb > 4 * NR && (long)batch * mBlocks * ((n + nb - 1) / nb) < 2L * CpuParallel.Workers) nb /= 2;
        int nBlocks = (n + nb - 1) / nb;
        long tiles = (long)batch * mBlocks * nBlocks;
        bool avx = UseAvx2 && Avx2Supported;
        long costPerTile = (long)Math.Min(m, MC) * Math.Min(n, nb) * k;
        CpuParallel.For(tiles, costPerTile, (start, end) =>
        {
            var packA = _packA ??= GC.AllocateUninitializedArray<float>(MC * KC, pinned: true);
            var packB = _packB ??= GC.AllocateUninitializedArray<float>(KC * NC, pinned: true);
            fixed (float* pa = a, pb = b, pc = c, wa = packA, wb = packB)
            {
                for (long t = start; t < end; t++)
                {
                    int ni = (int)(t % nBlocks);
                    long rest = t / nBlocks;
                    int mi = (int)(rest % mBlocks);
                    long bi = rest / mBlocks;
                    int i0 = mi * MC, j0 = ni * nb;
                    var tile = new Tile(
                        pa + aOffset + bi * strideA, lda,
                        pb + bOffset + bi * strideB, ldb,
                        pc + cOffset + bi * strideC + (long)i0 * ldc + j0, ldc,
                        i0, Math.Min(MC, m - i0), j0, Math.Min(nb, n - j0));
                    RunTile(transA, transB, k, alpha, beta, tile, wa, wb, avx);
                }
            }
        });
    }

    /// <summary>One tile of C: its origin in op(A)/op(B) and its extent.</summary>
    private readonly struct Tile(float* a, int lda, float* b, int ldb, float* c, int ldc, int i0, int mc, int j0, int nc)
    {
        public readonly float* A = a, B = b, C = c;
        public readonly int Lda = lda, Ldb = ldb, Ldc = ldc, I0 = i0, Mc = mc, J0 = j0, Nc = nc;
    }

    private static void RunTile(bool transA, bool transB, int k, float alpha, float beta, Tile t, float* packA, float* packB, bool avx)
    {
        float* edge = stackalloc float[MR * NR];
        for (int p0 = 0; p0 < k; p0 += KC)
        {
            int kc = Math.Min(KC, k - p0);
            SgemmPack.PackB(transB, t.B, t.Ldb, p0, kc, t.J0, t.Nc, packB);
            SgemmPack.PackA(transA, t.A, t.Lda, t.I0, t.Mc, p0, kc, packA);
            // Later k steps accumulate onto what the first one wrote.
            float betaStep = p0 == 0 ? beta : 1f;
            for (int jr = 0; jr < t.Nc; jr += NR)
            {
                int nr = Math.Min(NR, t.Nc - jr);
                float* bPanel = packB + (long)jr * kc;
                for (int ir = 0; ir < t.Mc; ir += MR)
                {
                    int mr = Math.Min(MR, t.Mc - ir);
                    float* aPanel = packA + (long)ir * kc;
                    float* cTile = t.C + (long)ir * t.Ldc + jr;
                    if (mr == MR && nr == NR)
                    {
                        Kernel(avx, kc, aPanel, bPanel, cTile, t.Ldc, alpha, betaStep);
                    }
                    else
                    {
                        // Partial tiles: the kernel fills a full scratch tile, only the valid part is merged.
                        Kernel(avx, kc, aPanel, bPanel, edge, NR, 1f, 0f);
                        MergeEdge(edge, cTile, t.Ldc, mr, nr, alpha, betaStep);
                    }
                }
            }
        }
    }

    private static void Kernel(bool avx, int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        if (avx) SgemmKernelAvx2.Run(kc, a, b, c, ldc, alpha, beta);
        else SgemmKernelPortable.Run(kc, a, b, c, ldc, alpha, beta);
    }

    private static void MergeEdge(float* tile, float* c, long ldc, int mr, int nr, float alpha, float beta)
    {
        for (int i = 0; i < mr; i++)
        {
            float* row = c + i * ldc;
            float* src = tile + i * NR;
            if (beta == 0) for (int j = 0; j < nr; j++) row[j] = alpha * src[j];
            else for (int j = 0; j < nr; j++) row[j] = alpha * src[j] + beta * row[j];
        }
    }

    /// <summary>C = β·C without a product (k = 0 or α = 0); β = 0 clears, whatever C held.</summary>
    private static void ScaleOnly(int m, int n, float beta, float[] c, long cOffset, int ldc, int batch, long strideC)
    {
        if (beta == 1) return;
        CpuParallel.For((long)batch * m, n, (s, e) =>
        {
            for (long r = s; r < e; r++)
            {
                var row = c.AsSpan((int)(cOffset + r / m * strideC + r % m * ldc), n);
                if (beta == 0) row.Clear();
                else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        });
    }
}
