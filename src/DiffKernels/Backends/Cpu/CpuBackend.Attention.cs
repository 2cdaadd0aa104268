using System.Numerics.Tensors;
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
                    for (int r = 0; r < rows; r++)
                    {
                        var row = sBuf.AsSpan(r * nk, nk);
                        float max = nk == 0 ? float.NegativeInfinity : TensorPrimitives.Max<float>(row);
                        TensorPrimitives.Subtract(row, max, row);
                        TensorPrimitives.Exp(row, row);
                        float sum = TensorPrimitives.Sum<float>(row);
                        TensorPrimitives.Multiply(row, 1f / sum, row);
                        lv[bh * nq + i0 + r] = max + MathF.Log(sum);
                    }
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
                        {
                            int i = i0 + r;
                            var p = sBuf.AsSpan(r * nk, nk);
                            var g = dpBuf.AsSpan(r * nk, nk);
                            // Probabilities rebuilt from the saved log-sum-exp; dS = P∘(dP − Δ) with the
                            // softmax-Jacobian term Δᵢ = Σⱼ Pᵢⱼ·dPᵢⱼ (= dOᵢ·Oᵢ), taken from the same dP so
                            // that a one-hot row gives exactly dS = 0.
                            TensorPrimitives.Subtract(p, lv[bh * nq + i], p);
                            TensorPrimitives.Exp(p, p);
                            float delta = TensorPrimitives.Dot(p, g);
                            TensorPrimitives.Subtract(g, delta, g);
                            TensorPrimitives.Multiply(g, p, g);
                        }
                        Sgemm.RunSerial(true, false, nk, d, rows, 1f, ps, nk, gp, width, beta, pdv + kOff, width);
                        Sgemm.RunSerial(false, false, rows, d, nk, scale, pdp, nk, pk + kOff, width, 0f, pdq + qOff + (long)i0 * width, width);
                        Sgemm.RunSerial(true, false, nk, d, rows, scale, pdp, nk, qp, width, beta, pdk + kOff, width);
                    }
                }
            }
        });
    }

    /// <summary>A thread's scratch array of at least <paramref name="length"/> floats, pinned for pointer use.</summary>
    private static float[] Scratch(ref float[]? cache, long length)
    {
        if (cache == null || cache.Length < length)
            cache = GC.AllocateUninitializedArray<float>((int)Math.Max(1, length), pinned: true);
        return cache;
    }
}
