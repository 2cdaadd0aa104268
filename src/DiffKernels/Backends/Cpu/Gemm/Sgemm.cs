using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// Blocked single-precision GEMM in the Goto/BLIS structure. For each column block of C (≤ <see cref="NC"/>)
/// and each depth step (≤ <see cref="KC"/>), op(B) is packed once into NR-column panels and op(A) in
/// <see cref="MC"/>-row blocks of MR-row panels (transposes and zero padding happen there); a
/// register-blocked micro-kernel then sweeps MR×NR tiles. One large product is shared by the pool's
/// participants: either by rows, packing the B block together into a shared double buffer (one
/// barrier per depth step), or, when that balances better, by column panels with private packing.
/// A batch of small products is spread over the pool one product per task instead. Every element
/// of C sums its k terms in the same order whatever the split, so results do not depend on the worker count.
/// </summary>
internal static unsafe class Sgemm
{
    /// <summary>Micro-tile rows (A panel height).</summary>
    public const int MR = 6;

    /// <summary>Micro-tile columns (B panel width): two 8-float vectors.</summary>
    public const int NR = 16;

    /// <summary>Rows of an A block: its packed MC×KC block stays in L2.</summary>
    public const int MC = 24 * MR;

    /// <summary>Depth of one packed step: a KC×NR B panel (16 KiB) stays in L1.</summary>
    public const int KC = 256;

    /// <summary>Widest column block (a multiple of NR); its packed KC×NC block lives in L3.</summary>
    public const int NC = 2048;

    /// <summary>Products below this many multiply-adds run on one core.</summary>
    private const long SerialWork = 1L << 18;

    /// <summary>Floats of slack after each packing buffer: vector stores may run up to 8 floats past a panel.</summary>
    private const int Slack = 16;

    /// <summary>True when the AVX2 + FMA micro-kernel can run on this machine.</summary>
    public static bool Avx2Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Selects the AVX2 + FMA micro-kernel and packing (when supported) or the portable
    /// <c>Vector&lt;float&gt;</c> ones; tests flip it to cover both.
    /// </summary>
    internal static bool UseAvx2 { get; set; } = Avx2Supported;

    [ThreadStatic] private static float[]? _packA;
    [ThreadStatic] private static float[]? _packB;
    private static float[]? _sharedB;

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
        if (Volatile.Read(ref _sharedB) == null)
            Interlocked.CompareExchange(ref _sharedB, GC.AllocateUninitializedArray<float>(2 * (KC * NC + Slack), pinned: true), null);
        var p = new Problem(transA, transB, m, n, k, alpha, beta, lda, ldb, ldc, UseAvx2 && Avx2Supported);
        long work = (long)m * n * k;
        int workers = work < SerialWork ? 1 : CpuParallel.Workers;
        if (workers > 1 && Panels(n) < workers && (long)m * Math.Min(n, NC) * Math.Min(k, KC) / workers < (1L << 22)) workers = 1;
        if (batch > 1 && (batch >= 2 * CpuParallel.Workers || work < 64 * SerialWork))
        {
            CpuParallel.For(batch, work, (s, e) =>
            {
                for (long bi = s; bi < e; bi++)
                    fixed (float* pa = a, pb = b, pc = c)
                        p.Serial(pa + aOffset + bi * strideA, pb + bOffset + bi * strideB, pc + cOffset + bi * strideC);
            });
            return;
        }
        for (long bi = 0; bi < batch; bi++)
        {
            long oa = aOffset + bi * strideA, ob = bOffset + bi * strideB, oc = cOffset + bi * strideC;
            CpuParallel.Run(workers, (w, count) =>
            {
                fixed (float* pa = a, pb = b, pc = c)
                {
                    if (count == 1) p.Serial(pa + oa, pb + ob, pc + oc);
                    else p.Shared(pa + oa, pb + ob, pc + oc, w, count);
                }
            });
        }
    }

    private static int Panels(int cols) => (cols + NR - 1) / NR;

    /// <summary>
    /// One product on the calling thread, for kernels that already run in parallel over independent
    /// products (attention heads): no pool, no allocation.
    /// </summary>
    public static void RunSerial(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m <= 0 || n <= 0) return;
        if (k == 0 || alpha == 0)
        {
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(c + (long)i * ldc, n);
                if (beta == 0) row.Clear();
                else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
            return;
        }
        new Problem(transA, transB, m, n, k, alpha, beta, lda, ldb, ldc, UseAvx2 && Avx2Supported).Serial(a, b, c);
    }

    /// <summary>One product's shape and scalars, with the blocked loops over it.</summary>
    private readonly struct Problem(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int lda, int ldb, int ldc, bool avx)
    {
        /// <summary>The whole product on the calling thread.</summary>
        public void Serial(float* a, float* b, float* c)
        {
            float* wa = PackABuffer();
            float* wb = PackBBuffer();
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    SgemmPack.PackB(transB, b, ldb, pc, kc, jc, nc, wb, avx);
                    for (int ic = 0; ic < m; ic += MC)
                        Block(a, c, wa, wb, ic, Math.Min(MC, m - ic), pc, kc, jc, 0, Panels(nc), nc, pc == 0 ? beta : 1f);
                }
            }
        }

        /// <summary>Participant <paramref name="w"/> of <paramref name="count"/>'s share of the product.</summary>
        public void Shared(float* a, float* b, float* c, int w, int count)
        {
            if (SplitByColumns(count)) SharedByColumns(a, b, c, w, count);
            else SharedByRows(a, b, c, w, count);
        }

        /// <summary>
        /// Rows share one packed B block but meet at a barrier every depth step, which only pays when
        /// each step holds plenty of work: on a loaded machine a descheduled participant stalls the
        /// others at every barrier. Columns need no barrier but every participant packs all of A.
        /// </summary>
        public bool SplitByColumns(int count)
        {
            int mPanels = (m + MR - 1) / MR, nPanels = Panels(Math.Min(n, NC));
            if (nPanels < count) return false;
            long perStep = (long)m * Math.Min(n, NC) * Math.Min(k, KC) / count;
            double byRows = Balance(mPanels, count), byCols = Balance(nPanels, count);
            return mPanels < 2 * count || perStep < (1L << 22) || (byCols > byRows + 0.03 && n >= 128 * count);
        }

        private static double Balance(int panels, int count) => panels / (double)(count * ((panels + count - 1) / count));

        private void SharedByRows(float* a, float* b, float* c, int w, int count)
        {
            float* wa = PackABuffer();
            // Only the participants of the pool's current job reach here, so the buffer is theirs.
            var shared = _sharedB!;
            int mPanels = (m + MR - 1) / MR;
            int i0 = mPanels * w / count * MR, i1 = Math.Min(m, mPanels * (w + 1) / count * MR);
            fixed (float* sb = shared)
            {
                int step = 0;
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc), panels = Panels(nc);
                    int j0 = panels * w / count, j1 = panels * (w + 1) / count;
                    for (int pc = 0; pc < k; pc += KC, step++)
                    {
                        int kc = Math.Min(KC, k - pc);
                        // Double-buffered: a buffer is refilled two steps later, after everyone passed
                        // the barrier of the step in between and so finished reading it.
                        float* wb = sb + (step & 1) * (KC * NC + Slack);
                        if (j1 > j0)
                            SgemmPack.PackB(transB, b, ldb, pc, kc, jc + j0 * NR, Math.Min(nc - j0 * NR, (j1 - j0) * NR), wb + (long)j0 * NR * kc, avx);
                        CpuParallel.Barrier();
                        for (int ic = i0; ic < i1; ic += MC)
                            Block(a, c, wa, wb, ic, Math.Min(MC, i1 - ic), pc, kc, jc, 0, panels, nc, pc == 0 ? beta : 1f);
                    }
                }
            }
        }

        private void SharedByColumns(float* a, float* b, float* c, int w, int count)
        {
            float* wa = PackABuffer();
            float* wb = PackBBuffer();
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc), panels = Panels(nc);
                int j0 = panels * w / count, j1 = panels * (w + 1) / count;
                if (j1 <= j0) continue;
                int cols = Math.Min(nc - j0 * NR, (j1 - j0) * NR);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    SgemmPack.PackB(transB, b, ldb, pc, kc, jc + j0 * NR, cols, wb, avx);
                    for (int ic = 0; ic < m; ic += MC)
                        Block(a, c, wa, wb - (long)j0 * NR * kc, ic, Math.Min(MC, m - ic), pc, kc, jc, j0, j1, nc, pc == 0 ? beta : 1f);
                }
            }
        }

        /// <summary>
        /// Packs rows [ic, ic + mc) of the A step and multiplies them with B panels [j0, j1) of the
        /// packed block <paramref name="wb"/> (panel j at wb + j·NR·kc) into C.
        /// </summary>
        private void Block(float* a, float* c, float* wa, float* wb, int ic, int mc, int pc, int kc, int jc, int j0, int j1, int nc, float betaStep)
        {
            SgemmPack.PackA(transA, a, lda, ic, mc, pc, kc, wa, avx);
            Macro(wa, mc, wb, j0, j1, nc, kc, c + (long)ic * ldc + jc, ldc, alpha, betaStep, avx);
        }
    }

    /// <summary>
    /// C[0..mc, panels j0..j1) = α·(packed A block · packed B panels) + β·C, where B panel j sits at
    /// wb + j·NR·kc and only the first <paramref name="nc"/> columns of C exist.
    /// </summary>
    public static void Macro(float* wa, int mc, float* wb, int j0, int j1, int nc, int kc, float* c, long ldc, float alpha, float beta, bool avx)
    {
        float* edge = stackalloc float[MR * NR];
        for (int jp = j0; jp < j1; jp++)
        {
            int jr = jp * NR, nr = Math.Min(NR, nc - jr);
            float* bPanel = wb + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* aPanel = wa + (long)ir * kc;
                float* cTile = c + ir * ldc + jr;
                if (mr == MR && nr == NR)
                {
                    Kernel(kc, aPanel, bPanel, cTile, ldc, alpha, beta, avx);
                }
                else
                {
                    // Partial tiles: the kernel fills a full scratch tile, only the valid part is merged.
                    Kernel(kc, aPanel, bPanel, edge, NR, 1f, 0f, avx);
                    MergeEdge(edge, cTile, ldc, mr, nr, alpha, beta);
                }
            }
        }
    }

    private static void Kernel(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta, bool avx)
    {
        if (avx) SgemmKernelAvx2.Run(kc, a, b, c, ldc, alpha, beta);
        else SgemmKernelPortable.Run(kc, a, b, c, ldc, alpha, beta);
    }

    /// <summary>This thread's A packing block (MC×KC plus slack).</summary>
    public static float* PackABuffer()
    {
        var buf = _packA ??= GC.AllocateUninitializedArray<float>(MC * KC + Slack, pinned: true);
        return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buf[0]);
    }

    /// <summary>This thread's B packing block (KC×NC plus slack).</summary>
    public static float* PackBBuffer()
    {
        var buf = _packB ??= GC.AllocateUninitializedArray<float>(KC * NC + Slack, pinned: true);
        return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buf[0]);
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
