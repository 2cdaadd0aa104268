using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>The micro-kernel family in use.</summary>
internal enum GemmPath
{
    /// <summary><c>Vector&lt;float&gt;</c>, any hardware.</summary>
    Portable,

    /// <summary>AVX2 + FMA, 6×16.</summary>
    Avx2,

    /// <summary>AVX-512F, 6×32.</summary>
    Avx512,
}

/// <summary>
/// Blocked single-precision GEMM in the Goto/BLIS structure. For each column block of C (≤ <see cref="NC"/>)
/// and each depth step (≤ <see cref="KC"/>), op(B) is packed once into NR-column panels and op(A) in
/// <see cref="MC"/>-row blocks of MR-row panels (transposes and zero padding happen there); a
/// register-blocked micro-kernel then sweeps MR×NR tiles. One large product is shared by the pool's
/// participants: either by rows, packing the B block together into a shared double buffer (one
/// barrier per depth step), or by column panels with private packing. A batch of small products is
/// spread over the pool one product per task instead. Every element of C sums its k terms in the
/// same order whatever the split, so results do not depend on the worker count. The loops are
/// generic over the micro-kernel (<see cref="IMicroKernel"/>), chosen once per call.
/// </summary>
internal static unsafe class Sgemm
{
    /// <summary>Micro-tile rows (A panel height), shared by every kernel.</summary>
    public const int MR = 6;

    /// <summary>Rows of an A block: its packed MC×KC block stays in L2.</summary>
    public const int MC = 24 * MR;

    /// <summary>Depth of one packed step: a KC×NR B panel (16 or 32 KiB) stays in L1.</summary>
    public const int KC = 256;

    /// <summary>Widest column block (a multiple of every NR); its packed KC×NC block lives in L3.</summary>
    public const int NC = 2048;

    /// <summary>The widest NR of any kernel (sizes scratch tiles).</summary>
    public const int MaxNR = 32;

    /// <summary>Products below this many multiply-adds run on one core.</summary>
    private const long SerialWork = 1L << 18;

    /// <summary>Floats of slack after each packing buffer: vector stores may run up to 8 floats past a panel.</summary>
    private const int Slack = 16;

    /// <summary>True when the AVX2 + FMA micro-kernel can run on this machine.</summary>
    public static bool Avx2Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True when the AVX-512 micro-kernel can run on this machine (it packs with AVX2).</summary>
    public static bool Avx512Supported => Avx2Supported && SgemmKernelAvx512.Supported;

    /// <summary>
    /// Selects the SIMD kernels and packing (when supported) or the portable <c>Vector&lt;float&gt;</c>
    /// ones; tests flip it to cover both.
    /// </summary>
    internal static bool UseAvx2 { get; set; } = Avx2Supported;

    /// <summary>Among the SIMD kernels, prefers the AVX-512 one where supported; tests flip it to cover the AVX2 one.</summary>
    internal static bool UseAvx512 { get; set; } = Avx512Supported;

    /// <summary>The kernel family the current settings select on this machine.</summary>
    public static GemmPath Path =>
        !UseAvx2 || !Avx2Supported ? GemmPath.Portable : UseAvx512 && Avx512Supported ? GemmPath.Avx512 : GemmPath.Avx2;

    /// <summary>Micro-tile columns of the selected kernel.</summary>
    public static int NR => Path switch { GemmPath.Avx512 => Avx512Kernel.NR, GemmPath.Avx2 => Avx2Kernel.NR, _ => PortableKernel.NR };

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
        var p = new Problem(transA, transB, m, n, k, alpha, beta, lda, ldb, ldc);
        var job = new Job(p, a, aOffset, b, bOffset, c, cOffset, batch, strideA, strideB, strideC);
        switch (Path)
        {
            case GemmPath.Avx512: job.Run<Avx512Kernel>(); break;
            case GemmPath.Avx2: job.Run<Avx2Kernel>(); break;
            default: job.Run<PortableKernel>(); break;
        }
    }

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
        var p = new Problem(transA, transB, m, n, k, alpha, beta, lda, ldb, ldc);
        switch (Path)
        {
            case GemmPath.Avx512: p.Serial<Avx512Kernel>(a, b, c); break;
            case GemmPath.Avx2: p.Serial<Avx2Kernel>(a, b, c); break;
            default: p.Serial<PortableKernel>(a, b, c); break;
        }
    }

    private static int Panels<TK>(int cols) where TK : IMicroKernel => (cols + TK.NR - 1) / TK.NR;

    /// <summary>A batched call: how its products are spread over the pool.</summary>
    private sealed class Job(Problem p, float[] a, long aOffset, float[] b, long bOffset, float[] c, long cOffset,
        int batch, long strideA, long strideB, long strideC)
    {
        public void Run<TK>() where TK : IMicroKernel
        {
            long work = (long)p.M * p.N * p.K;
            int workers = work < SerialWork ? 1 : CpuParallel.Workers;
            if (workers > 1 && Panels<TK>(p.N) < workers && (long)p.M * Math.Min(p.N, NC) * Math.Min(p.K, KC) / workers < (1L << 22)) workers = 1;
            if (batch > 1 && (batch >= 2 * CpuParallel.Workers || work < 64 * SerialWork))
            {
                CpuParallel.For(batch, work, (s, e) =>
                {
                    for (long bi = s; bi < e; bi++)
                        fixed (float* pa = a, pb = b, pc = c)
                            p.Serial<TK>(pa + aOffset + bi * strideA, pb + bOffset + bi * strideB, pc + cOffset + bi * strideC);
                });
                return;
            }
            if (workers > 1 && Volatile.Read(ref _sharedB) == null)
                Interlocked.CompareExchange(ref _sharedB, GC.AllocateUninitializedArray<float>(2 * (KC * NC + Slack), pinned: true), null);
            for (long bi = 0; bi < batch; bi++)
            {
                long oa = aOffset + bi * strideA, ob = bOffset + bi * strideB, oc = cOffset + bi * strideC;
                CpuParallel.Run(workers, (w, count) =>
                {
                    fixed (float* pa = a, pb = b, pc = c)
                    {
                        if (count == 1) p.Serial<TK>(pa + oa, pb + ob, pc + oc);
                        else p.Shared<TK>(pa + oa, pb + ob, pc + oc, w, count);
                    }
                });
            }
        }
    }

    /// <summary>One product's shape and scalars, with the blocked loops over it.</summary>
    private readonly struct Problem(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int lda, int ldb, int ldc)
    {
        public int M => m;

        public int N => n;

        public int K => k;

        /// <summary>The whole product on the calling thread.</summary>
        public void Serial<TK>(float* a, float* b, float* c) where TK : IMicroKernel
        {
            float* wa = PackABuffer();
            float* wb = PackBBuffer();
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    SgemmPack.PackB<TK>(transB, b, ldb, pc, kc, jc, nc, wb);
                    for (int ic = 0; ic < m; ic += MC)
                        Block<TK>(a, c, wa, wb, ic, Math.Min(MC, m - ic), pc, kc, jc, 0, Panels<TK>(nc), nc, pc == 0 ? beta : 1f);
                }
            }
        }

        /// <summary>
        /// Participant <paramref name="w"/> of <paramref name="count"/>'s share. Rows share one packed B
        /// block but meet at a barrier every depth step, which only pays when each step holds plenty of
        /// work: on a loaded machine a descheduled participant stalls the others at every barrier.
        /// Columns need no barrier but every participant packs all of A.
        /// </summary>
        public void Shared<TK>(float* a, float* b, float* c, int w, int count) where TK : IMicroKernel
        {
            int mPanels = (m + MR - 1) / MR, nPanels = Panels<TK>(Math.Min(n, NC));
            long perStep = (long)m * Math.Min(n, NC) * Math.Min(k, KC) / count;
            double byRows = Balance(mPanels, count), byCols = Balance(nPanels, count);
            bool byColumns = nPanels >= count && (mPanels < 2 * count || perStep < (1L << 22) || (byCols > byRows + 0.03 && n >= 128 * count));
            if (byColumns) SharedByColumns<TK>(a, b, c, w, count);
            else SharedByRows<TK>(a, b, c, w, count);
        }

        private static double Balance(int panels, int count) => panels / (double)(count * ((panels + count - 1) / count));

        private void SharedByRows<TK>(float* a, float* b, float* c, int w, int count) where TK : IMicroKernel
        {
            int nr = TK.NR;
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
                    int nc = Math.Min(NC, n - jc), panels = Panels<TK>(nc);
                    int j0 = panels * w / count, j1 = panels * (w + 1) / count;
                    for (int pc = 0; pc < k; pc += KC, step++)
                    {
                        int kc = Math.Min(KC, k - pc);
                        // Double-buffered: a buffer is refilled two steps later, after everyone passed
                        // the barrier of the step in between and so finished reading it.
                        float* wb = sb + (step & 1) * (KC * NC + Slack);
                        if (j1 > j0)
                            SgemmPack.PackB<TK>(transB, b, ldb, pc, kc, jc + j0 * nr, Math.Min(nc - j0 * nr, (j1 - j0) * nr), wb + (long)j0 * nr * kc);
                        CpuParallel.Barrier();
                        for (int ic = i0; ic < i1; ic += MC)
                            Block<TK>(a, c, wa, wb, ic, Math.Min(MC, i1 - ic), pc, kc, jc, 0, panels, nc, pc == 0 ? beta : 1f);
                    }
                }
            }
        }

        private void SharedByColumns<TK>(float* a, float* b, float* c, int w, int count) where TK : IMicroKernel
        {
            int nr = TK.NR;
            float* wa = PackABuffer();
            float* wb = PackBBuffer();
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc), panels = Panels<TK>(nc);
                int j0 = panels * w / count, j1 = panels * (w + 1) / count;
                if (j1 <= j0) continue;
                int cols = Math.Min(nc - j0 * nr, (j1 - j0) * nr);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    SgemmPack.PackB<TK>(transB, b, ldb, pc, kc, jc + j0 * nr, cols, wb);
                    for (int ic = 0; ic < m; ic += MC)
                        Block<TK>(a, c, wa, wb - (long)j0 * nr * kc, ic, Math.Min(MC, m - ic), pc, kc, jc, j0, j1, nc, pc == 0 ? beta : 1f);
                }
            }
        }

        /// <summary>
        /// Packs rows [ic, ic + mc) of the A step and multiplies them with B panels [j0, j1) of the
        /// packed block <paramref name="wb"/> (panel j at wb + j·NR·kc) into C.
        /// </summary>
        private void Block<TK>(float* a, float* c, float* wa, float* wb, int ic, int mc, int pc, int kc, int jc, int j0, int j1, int nc, float betaStep)
            where TK : IMicroKernel
        {
            SgemmPack.PackA(transA, a, lda, ic, mc, pc, kc, wa, Avx2Supported && typeof(TK) != typeof(PortableKernel));
            Macro<TK>(wa, mc, wb, j0, j1, nc, kc, c + (long)ic * ldc + jc, ldc, alpha, betaStep);
        }
    }

    /// <summary>
    /// C[0..mc, panels j0..j1) = α·(packed A block · packed B panels) + β·C, where B panel j sits at
    /// wb + j·NR·kc and only the first <paramref name="nc"/> columns of C exist.
    /// </summary>
    public static void Macro<TK>(float* wa, int mc, float* wb, int j0, int j1, int nc, int kc, float* c, long ldc, float alpha, float beta)
        where TK : IMicroKernel
    {
        int nrMax = TK.NR;
        float* edge = stackalloc float[MR * MaxNR];
        for (int jp = j0; jp < j1; jp++)
        {
            int jr = jp * nrMax, nr = Math.Min(nrMax, nc - jr);
            float* bPanel = wb + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* aPanel = wa + (long)ir * kc;
                float* cTile = c + ir * ldc + jr;
                if (mr == MR && nr == nrMax)
                {
                    TK.Run(kc, aPanel, bPanel, cTile, ldc, alpha, beta);
                }
                else
                {
                    // Partial tiles: the kernel fills a full scratch tile, only the valid part is merged.
                    TK.Run(kc, aPanel, bPanel, edge, nrMax, 1f, 0f);
                    MergeEdge(edge, nrMax, cTile, ldc, mr, nr, alpha, beta);
                }
            }
        }
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

    private static void MergeEdge(float* tile, int tileLd, float* c, long ldc, int mr, int nr, float alpha, float beta)
    {
        for (int i = 0; i < mr; i++)
        {
            float* row = c + i * ldc;
            float* src = tile + i * tileLd;
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
