using System.Runtime.Intrinsics;
using DiffKernels.Backends.Cpu.Gemm;

namespace DiffKernels.Backends.Cpu;

// Attention per (batch, head) and block of queries: the block's logits S = scale·Q·Kᵀ are one small
// GEMM, softmax runs on whole rows (so a block's probabilities exist at once, a few hundred KiB at
// most), and P·V is another GEMM. The backward rebuilds P from the saved log-sum-exp and runs the four
// products of the gradient as GEMMs too.
public sealed partial class CpuBackend
{
    private const int AttentionQueryBlock = 64;

    [ThreadStatic] private static float[]? _attnS;
    [ThreadStatic] private static float[]? _attnDp;

    /// <inheritdoc/>
    public unsafe void AttentionForward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse,
        int b, int nq, int nk, int heads, int d, float scale)
    {
        var qv = ((CpuBuffer)q).Data;
        var kv = ((CpuBuffer)k).Data;
        var vv = ((CpuBuffer)v).Data;
        var ov = ((CpuBuffer)o).Data;
        var lv = ((CpuBuffer)lse).Data;
        int width = heads * d;
        int qBlocks = (nq + AttentionQueryBlock - 1) / AttentionQueryBlock;
        CpuParallel.For((long)b * heads * qBlocks, (long)AttentionQueryBlock * nk * d * 4, (s, e) =>
        {
            var sBuf = Scratch(ref _attnS, (long)AttentionQueryBlock * nk);
            fixed (float* pq = qv, pk = kv, pv = vv, po = ov, ps = sBuf)
            {
                for (long item = s; item < e; item++)
                {
                    int qb = (int)(item % qBlocks);
                    long bh = item / qBlocks;
                    int h = (int)(bh % heads), bi = (int)(bh / heads);
                    int i0 = qb * AttentionQueryBlock, rows = Math.Min(AttentionQueryBlock, nq - i0);
                    float* qp = pq + ((long)bi * nq + i0) * width + h * d;
                    float* op = po + ((long)bi * nq + i0) * width + h * d;
                    long kOff = (long)bi * nk * width + h * d;
                    Sgemm.RunSerial(false, true, rows, nk, d, scale, qp, width, pk + kOff, width, 0f, ps, nk);
                    for (int r = 0; r < rows; r++) lv[bh * nq + i0 + r] = SoftmaxRow(ps + (long)r * nk, nk);
                    Sgemm.RunSerial(false, false, rows, d, nk, 1f, ps, nk, pv + kOff, width, 0f, op, width);
                }
            }
        });
    }

    /// <inheritdoc/>
    public unsafe void AttentionBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        var qv = ((CpuBuffer)q).Data;
        var kv = ((CpuBuffer)k).Data;
        var vv = ((CpuBuffer)v).Data;
        var lv = ((CpuBuffer)lse).Data;
        var gov = ((CpuBuffer)dO).Data;
        var dqv = ((CpuBuffer)dq).Data;
        var dkv = ((CpuBuffer)dk).Data;
        var dvv = ((CpuBuffer)dv).Data;
        int width = heads * d;
        // One task owns a whole (batch, head): its slices of dq, dk and dv are written by no one else.
        CpuParallel.For((long)b * heads, (long)nq * nk * d * 10, (s, e) =>
        {
            var sBuf = Scratch(ref _attnS, (long)AttentionQueryBlock * nk);
            var dpBuf = Scratch(ref _attnDp, (long)AttentionQueryBlock * nk);
            fixed (float* pq = qv, pk = kv, pv = vv, pg = gov, pdq = dqv, pdk = dkv, pdv = dvv, ps = sBuf, pdp = dpBuf)
            {
                for (long bh = s; bh < e; bh++)
                {
                    int h = (int)(bh % heads), bi = (int)(bh / heads);
                    long qOff = (long)bi * nq * width + h * d, kOff = (long)bi * nk * width + h * d;
                    if (nq == 0)
                    {
                        for (int j = 0; j < nk; j++)
                        {
                            dkv.AsSpan((int)(kOff + (long)j * width), d).Clear();
                            dvv.AsSpan((int)(kOff + (long)j * width), d).Clear();
                        }
                        continue;
                    }
                    for (int i0 = 0; i0 < nq; i0 += AttentionQueryBlock)
                    {
                        int rows = Math.Min(AttentionQueryBlock, nq - i0);
                        float beta = i0 == 0 ? 0f : 1f;
                        float* qp = pq + qOff + (long)i0 * width, gp = pg + qOff + (long)i0 * width;
                        Sgemm.RunSerial(false, true, rows, nk, d, scale, qp, width, pk + kOff, width, 0f, ps, nk);
                        Sgemm.RunSerial(false, true, rows, nk, d, 1f, gp, width, pv + kOff, width, 0f, pdp, nk);
                        for (int r = 0; r < rows; r++)
                            SoftmaxGradientRow(ps + (long)r * nk, pdp + (long)r * nk, nk, lv[bh * nq + i0 + r]);
                        Sgemm.RunSerial(true, false, nk, d, rows, 1f, ps, nk, gp, width, beta, pdv + kOff, width);
                        Sgemm.RunSerial(false, false, rows, d, nk, scale, pdp, nk, pk + kOff, width, 0f, pdq + qOff + (long)i0 * width, width);
                        Sgemm.RunSerial(true, false, nk, d, rows, scale, pdp, nk, qp, width, beta, pdk + kOff, width);
                    }
                }
            }
        });
    }

    /// <summary>
    /// Softmax of one row of logits in place (max-subtracted, vector exp); returns the row's
    /// log-sum-exp. Tails go through a padded vector whose extra lanes are −∞ (exp gives 0 there).
    /// </summary>
    private static unsafe float SoftmaxRow(float* row, int n)
    {
        if (n == 0) return float.NegativeInfinity;
        int i = 0;
        var vmax = Vector256.Create(float.NegativeInfinity);
        for (; i + 8 <= n; i += 8) vmax = Vector256.Max(vmax, Vector256.Load(row + i));
        float max = MaxOf(row + i, n - i);
        for (int k = 0; k < 8; k++) max = MathF.Max(max, vmax.GetElement(k));
        var vm = Vector256.Create(max);
        var vsum = Vector256<float>.Zero;
        for (i = 0; i + 8 <= n; i += 8)
        {
            var e = SimdMath.Exp(Vector256.Load(row + i) - vm);
            Vector256.Store(e, row + i);
            vsum += e;
        }
        float* t = stackalloc float[8];
        if (i < n)
        {
            for (int j = 0; j < 8; j++) t[j] = i + j < n ? row[i + j] - max : float.NegativeInfinity;
            var e = SimdMath.Exp(Vector256.Load(t));
            // The clamped exp of −∞ is about 1e−38, not 0: zero the padding lanes before summing.
            for (int j = 0; j < 8; j++) t[j] = i + j < n ? e.GetElement(j) : 0f;
            for (int j = 0; i + j < n; j++) row[i + j] = t[j];
            vsum += Vector256.Load(t);
        }
        float sum = Vector256.Sum(vsum);
        var inv = Vector256.Create(1f / sum);
        for (i = 0; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(row + i) * inv, row + i);
        for (; i < n; i++) row[i] *= inv.ToScalar();
        return max + MathF.Log(sum);
    }

    private static unsafe float MaxOf(float* v, int n)
    {
        float m = float.NegativeInfinity;
        for (int i = 0; i < n; i++) m = MathF.Max(m, v[i]);
        return m;
    }

    /// <summary>
    /// With p the row's scaled logits and g its dP: p ← exp(p − lse) (the probabilities rebuilt from
    /// the saved log-sum-exp) and g ← p∘(g − Δ) with the softmax-Jacobian term Δ = Σ p·g (= dO·O),
    /// taken from the same dP so that a one-hot row gives exactly dS = 0.
    /// </summary>
    private static unsafe void SoftmaxGradientRow(float* p, float* g, int n, float lse)
    {
        int i = 0;
        var vl = Vector256.Create(lse);
        var vdot = Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8)
        {
            var e = SimdMath.Exp(Vector256.Load(p + i) - vl);
            Vector256.Store(e, p + i);
            vdot = Vector256.MultiplyAddEstimate(e, Vector256.Load(g + i), vdot);
        }
        float delta = Vector256.Sum(vdot);
        if (i < n)
        {
            float* t = stackalloc float[8];
            for (int j = 0; j < 8; j++) t[j] = i + j < n ? p[i + j] - lse : 0f;
            var e = SimdMath.Exp(Vector256.Load(t));
            for (int j = 0; i + j < n; j++)
            {
                p[i + j] = e.GetElement(j);
                delta += p[i + j] * g[i + j];
            }
        }
        var vd = Vector256.Create(delta);
        for (i = 0; i + 8 <= n; i += 8) Vector256.Store((Vector256.Load(g + i) - vd) * Vector256.Load(p + i), g + i);
        for (; i < n; i++) g[i] = (g[i] - delta) * p[i];
    }

    /// <summary>A thread's scratch array of at least <paramref name="length"/> floats, pinned for pointer use.</summary>
    private static float[] Scratch(ref float[]? cache, long length)
    {
        if (cache == null || cache.Length < length)
            cache = GC.AllocateUninitializedArray<float>((int)Math.Max(1, length), pinned: true);
        return cache;
    }
}
