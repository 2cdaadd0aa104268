using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    private const int AttentionQueryBlock = 32;
    private const int AttentionKeyBlock = 64;

    /// <inheritdoc/>
    public void AttentionForward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse,
        int b, int nq, int nk, int heads, int d, float scale)
    {
        var qv = ((CpuBuffer)q).Data;
        var kv = ((CpuBuffer)k).Data;
        var vv = ((CpuBuffer)v).Data;
        var ov = ((CpuBuffer)o).Data;
        var lv = ((CpuBuffer)lse).Data;
        int width = heads * d;
        int qBlocks = (nq + AttentionQueryBlock - 1) / AttentionQueryBlock;
        CpuParallel.For((long)b * heads * qBlocks, (long)AttentionQueryBlock * nk * d * 3, (s, e) =>
        {
            var acc = new float[AttentionQueryBlock * d];
            var rowMax = new float[AttentionQueryBlock];
            var rowSum = new float[AttentionQueryBlock];
            var p = new float[AttentionKeyBlock];
            for (long item = s; item < e; item++)
            {
                int qb = (int)(item % qBlocks);
                long bh = item / qBlocks;
                int h = (int)(bh % heads), bi = (int)(bh / heads);
                int i0 = qb * AttentionQueryBlock, rows = Math.Min(AttentionQueryBlock, nq - i0);
                rowMax.AsSpan().Fill(float.NegativeInfinity);
                rowSum.AsSpan().Clear();
                acc.AsSpan().Clear();
                // Online softmax: each key block rescales the running sum and accumulator to the new
                // row maximum, so only one block of logits per row exists at a time.
                for (int j0 = 0; j0 < nk; j0 += AttentionKeyBlock)
                {
                    int kn = Math.Min(AttentionKeyBlock, nk - j0);
                    var pb = p.AsSpan(0, kn);
                    for (int ii = 0; ii < rows; ii++)
                    {
                        ReadOnlySpan<float> qi = qv.AsSpan(((bi * nq) + i0 + ii) * width + h * d, d);
                        for (int jj = 0; jj < kn; jj++)
                            pb[jj] = scale * TensorPrimitives.Dot(qi, kv.AsSpan(((bi * nk) + j0 + jj) * width + h * d, d));
                        float mNew = MathF.Max(rowMax[ii], TensorPrimitives.Max<float>(pb));
                        var ai = acc.AsSpan(ii * d, d);
                        float correction = MathF.Exp(rowMax[ii] - mNew);
                        if (correction != 1f)
                        {
                            rowSum[ii] *= correction;
                            TensorPrimitives.Multiply(ai, correction, ai);
                        }
                        rowMax[ii] = mNew;
                        TensorPrimitives.Subtract(pb, mNew, pb);
                        TensorPrimitives.Exp(pb, pb);
                        rowSum[ii] += TensorPrimitives.Sum<float>(pb);
                        for (int jj = 0; jj < kn; jj++)
                            TensorPrimitives.MultiplyAdd(vv.AsSpan(((bi * nk) + j0 + jj) * width + h * d, d), pb[jj], ai, ai);
                    }
                }
                for (int ii = 0; ii < rows; ii++)
                {
                    int i = i0 + ii;
                    TensorPrimitives.Multiply(acc.AsSpan(ii * d, d), 1f / rowSum[ii], ov.AsSpan((bi * nq + i) * width + h * d, d));
                    lv[(bh * nq) + i] = rowMax[ii] + MathF.Log(rowSum[ii]);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void AttentionBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        var qv = ((CpuBuffer)q).Data;
        var kv = ((CpuBuffer)k).Data;
        var vv = ((CpuBuffer)v).Data;
        var ov = ((CpuBuffer)o).Data;
        var lv = ((CpuBuffer)lse).Data;
        var gov = ((CpuBuffer)dO).Data;
        var dqv = ((CpuBuffer)dq).Data;
        var dkv = ((CpuBuffer)dk).Data;
        var dvv = ((CpuBuffer)dv).Data;
        int width = heads * d;
        // One task owns a whole (batch, head): its slices of dq, dk and dv are written by no one else.
        CpuParallel.For((long)b * heads, (long)nq * nk * d * 6, (s, e) =>
        {
            var delta = new float[nq];
            var p = new float[AttentionKeyBlock];
            var dp = new float[AttentionKeyBlock];
            for (long bh = s; bh < e; bh++)
            {
                int h = (int)(bh % heads), bi = (int)(bh / heads);
                int qOff = bi * nq * width + h * d, kOff = bi * nk * width + h * d;
                // Δᵢ = dOᵢ·Oᵢ equals Σⱼ Pᵢⱼ·dPᵢⱼ, the softmax-Jacobian term.
                for (int i = 0; i < nq; i++)
                {
                    delta[i] = TensorPrimitives.Dot(gov.AsSpan(qOff + i * width, d), ov.AsSpan(qOff + i * width, d));
                    dqv.AsSpan(qOff + i * width, d).Clear();
                }
                for (int j = 0; j < nk; j++)
                {
                    dkv.AsSpan(kOff + j * width, d).Clear();
                    dvv.AsSpan(kOff + j * width, d).Clear();
                }
                for (int j0 = 0; j0 < nk; j0 += AttentionKeyBlock)
                {
                    int kn = Math.Min(AttentionKeyBlock, nk - j0);
                    var pb = p.AsSpan(0, kn);
                    var db = dp.AsSpan(0, kn);
                    for (int i = 0; i < nq; i++)
                    {
                        ReadOnlySpan<float> qi = qv.AsSpan(qOff + i * width, d);
                        ReadOnlySpan<float> gi = gov.AsSpan(qOff + i * width, d);
                        var dqi = dqv.AsSpan(qOff + i * width, d);
                        for (int jj = 0; jj < kn; jj++)
                        {
                            int kj = kOff + (j0 + jj) * width;
                            pb[jj] = scale * TensorPrimitives.Dot(qi, kv.AsSpan(kj, d));
                            db[jj] = TensorPrimitives.Dot(gi, vv.AsSpan(kj, d));
                        }
                        // Probabilities rebuilt from the saved log-sum-exp; dS = P∘(dP − Δ), pre-scaled.
                        TensorPrimitives.Subtract(pb, lv[bh * nq + i], pb);
                        TensorPrimitives.Exp(pb, pb);
                        TensorPrimitives.Subtract(db, delta[i], db);
                        TensorPrimitives.Multiply(db, pb, db);
                        TensorPrimitives.Multiply(db, scale, db);
                        for (int jj = 0; jj < kn; jj++)
                        {
                            int kj = kOff + (j0 + jj) * width;
                            TensorPrimitives.MultiplyAdd(gi, pb[jj], dvv.AsSpan(kj, d), dvv.AsSpan(kj, d));
                            TensorPrimitives.MultiplyAdd(kv.AsSpan(kj, d), db[jj], dqi, dqi);
                            TensorPrimitives.MultiplyAdd(qi, db[jj], dkv.AsSpan(kj, d), dkv.AsSpan(kj, d));
                        }
                    }
                }
            }
        });
    }
}
