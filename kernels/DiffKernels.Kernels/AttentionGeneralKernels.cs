using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Arguments of the general attention kernels. q, o, dO, dq are [B, Nq, H·D]; k, v, dk, dv are [B, Nk, H·D];
/// lse and delta are [B, H, Nq]. BQ × BK is the tile of the score matrix a group holds in shared memory.
/// </summary>
internal struct AttentionArgs
{
    public ArrayView<float> Q, K, V, O, Lse, DO, DQ, DK, DV, Delta;
    public int Nq, Nk, Heads, D, BQ, BK;
    public float Scale;
}

/// <summary>
/// Fused multi-head attention for any head width: the path for heads wider than 64, which the tiled
/// kernels (<see cref="AttentionKernels"/>) do not cover. Scores exist only as one BQ × BK tile in
/// shared memory, never as an Nq × Nk matrix in global memory, with runtime tile sizes. The forward
/// keeps a running row maximum and sum (online softmax) and saves the log-sum-exp; the backward
/// rebuilds the probabilities from it, in two passes that each own their outputs (dk/dv per key tile,
/// dq per query tile), so no atomics are needed and the result is deterministic. Shared rows are padded
/// by one float against bank conflicts. Grid: (tiles along the owned axis, B·H); 1-D groups.
/// </summary>
internal static class AttentionGeneralKernels
{
    /// <summary>Shared floats of <see cref="Forward"/>.</summary>
    public static int ForwardShared(int d, int bq, int bk) => bq * (d + 1) + bq * d + bk * (d + 1) + bq * (bk + 1) + 3 * bq;

    /// <summary>Shared floats of <see cref="BackwardKV"/>.</summary>
    public static int BackwardKVShared(int d, int bq, int bk) => 2 * bk * (d + 1) + 2 * bk * d + 2 * bq * (d + 1) + 2 * bq * (bk + 1);

    /// <summary>Shared floats of <see cref="BackwardQ"/>.</summary>
    public static int BackwardQShared(int d, int bq, int bk) => 2 * bq * (d + 1) + bq * d + 2 * bk * (d + 1) + bq * (bk + 1);

    /// <summary>Copies rows [r0, r0 + rows) of one head into a padded shared tile (zeros past the end).</summary>
    private static void LoadTile(ArrayView<float> src, ArrayView<float> tile, int rowBase, int r0, int rows, int tileRows, int width, int col0, int d)
    {
        int ld = d + 1;
        for (int e = Group.IdxX; e < tileRows * d; e += Group.DimX)
        {
            int i = e / d, c = e % d;
            tile[i * ld + c] = i < rows ? src[(rowBase + r0 + i) * width + col0 + c] : 0f;
        }
    }

    private static float Dot(ArrayView<float> a, int ao, ArrayView<float> b, int bo, int d)
    {
        float s = 0f;
        for (int c = 0; c < d; c++) s += a[ao + c] * b[bo + c];
        return s;
    }

    [Kernel(grouped: true)]
    public static void Forward(AttentionArgs p)
    {
        int d = p.D, ld = d + 1, bq = p.BQ, bk = p.BK, sld = bk + 1;
        int bh = Grid.IdxY, h = bh % p.Heads, bi = bh / p.Heads, width = p.Heads * d, col0 = h * d;
        int i0 = Grid.IdxX * bq, rows = Math.Min(bq, p.Nq - i0);
        int t = Group.IdxX, nt = Group.DimX;
        var shared = SharedMemory.GetDynamic<float>();
        var qs = shared.SubView(0, bq * ld);
        var os = shared.SubView(bq * ld, bq * d);
        var kv = shared.SubView(bq * ld + bq * d, bk * ld);
        int so = bq * ld + bq * d + bk * ld;
        var s = shared.SubView(so, bq * sld);
        var rowMax = shared.SubView(so + bq * sld, bq);
        var rowSum = shared.SubView(so + bq * sld + bq, bq);
        var rowCorr = shared.SubView(so + bq * sld + 2 * bq, bq);

        LoadTile(p.Q, qs, bi * p.Nq, i0, rows, bq, width, col0, d);
        for (int e = t; e < bq * d; e += nt) os[e] = 0f;
        for (int i = t; i < bq; i += nt)
        {
            rowMax[i] = float.NegativeInfinity;
            rowSum[i] = 0f;
        }
        Group.Barrier();
        for (int j0 = 0; j0 < p.Nk; j0 += bk)
        {
            int kn = Math.Min(bk, p.Nk - j0);
            LoadTile(p.K, kv, bi * p.Nk, j0, kn, bk, width, col0, d);
            Group.Barrier();
            for (int e = t; e < bq * bk; e += nt)
            {
                int i = e / bk, j = e % bk;
                s[i * sld + j] = j < kn ? p.Scale * Dot(qs, i * ld, kv, j * ld, d) : float.NegativeInfinity;
            }
            Group.Barrier();
            // One thread per row moves its running max and sum to the new maximum; the correction
            // rescales the accumulated output below.
            for (int i = t; i < bq; i += nt)
            {
                float mOld = rowMax[i], mNew = mOld;
                for (int j = 0; j < kn; j++) mNew = MathF.Max(mNew, s[i * sld + j]);
                float sum = 0f;
                for (int j = 0; j < bk; j++)
                {
                    float e = j < kn ? DeviceMath.Exp(s[i * sld + j] - mNew) : 0f;
                    s[i * sld + j] = e;
                    sum += e;
                }
                float corr = DeviceMath.Exp(mOld - mNew);
                rowSum[i] = rowSum[i] * corr + sum;
                rowMax[i] = mNew;
                rowCorr[i] = corr;
            }
            Group.Barrier();
            LoadTile(p.V, kv, bi * p.Nk, j0, kn, bk, width, col0, d);
            Group.Barrier();
            for (int e = t; e < bq * d; e += nt)
            {
                int i = e / d, c = e % d;
                float acc = os[e] * rowCorr[i];
                for (int j = 0; j < kn; j++) acc += s[i * sld + j] * kv[j * ld + c];
                os[e] = acc;
            }
            Group.Barrier();
        }
        for (int e = t; e < rows * d; e += nt)
        {
            int i = e / d, c = e % d;
            p.O[(bi * p.Nq + i0 + i) * width + col0 + c] = os[e] / rowSum[i];
        }
        for (int i = t; i < rows; i += nt) p.Lse[bh * p.Nq + i0 + i] = rowMax[i] + DeviceMath.Log(rowSum[i]);
    }

    /// <summary>Δ[bh, i] = dOᵢ·Oᵢ (= Σⱼ Pᵢⱼ·dPᵢⱼ), one thread per query row of each head.</summary>
    [Kernel]
    public static void Delta(Index1D r, AttentionArgs p)
    {
        int i = r % p.Nq, bh = r / p.Nq, h = bh % p.Heads, bi = bh / p.Heads;
        int at = (bi * p.Nq + i) * p.Heads * p.D + h * p.D;
        float s = 0f;
        for (int c = 0; c < p.D; c++) s += p.DO[at + c] * p.O[at + c];
        p.Delta[r] = s;
    }

    /// <summary>
    /// Probability and score gradient of one (query, key) pair of the current tiles:
    /// P = exp(scale·q·k − lse), dS = scale·P·(dO·v − Δ).
    /// </summary>
    private static void PairGrad(AttentionArgs p, ArrayView<float> qs, ArrayView<float> dos, ArrayView<float> ks, ArrayView<float> vs,
        int i, int j, int row, out float prob, out float ds)
    {
        int ld = p.D + 1;
        prob = DeviceMath.Exp(p.Scale * Dot(qs, i * ld, ks, j * ld, p.D) - p.Lse[row]);
        ds = p.Scale * prob * (Dot(dos, i * ld, vs, j * ld, p.D) - p.Delta[row]);
    }

    /// <summary>dk and dv of one key tile: loops over every query tile, accumulating Pᵀ·dO and dSᵀ·Q in shared memory.</summary>
    [Kernel(grouped: true)]
    public static void BackwardKV(AttentionArgs p)
    {
        int d = p.D, ld = d + 1, bq = p.BQ, bk = p.BK, sld = bk + 1;
        int bh = Grid.IdxY, h = bh % p.Heads, bi = bh / p.Heads, width = p.Heads * d, col0 = h * d;
        int j0 = Grid.IdxX * bk, kn = Math.Min(bk, p.Nk - j0);
        int t = Group.IdxX, nt = Group.DimX;
        var shared = SharedMemory.GetDynamic<float>();
        var ks = shared.SubView(0, bk * ld);
        var vs = shared.SubView(bk * ld, bk * ld);
        var dk = shared.SubView(2 * bk * ld, bk * d);
        var dv = shared.SubView(2 * bk * ld + bk * d, bk * d);
        int o = 2 * bk * ld + 2 * bk * d;
        var qs = shared.SubView(o, bq * ld);
        var dos = shared.SubView(o + bq * ld, bq * ld);
        var pt = shared.SubView(o + 2 * bq * ld, bq * sld);
        var dst = shared.SubView(o + 2 * bq * ld + bq * sld, bq * sld);

        LoadTile(p.K, ks, bi * p.Nk, j0, kn, bk, width, col0, d);
        LoadTile(p.V, vs, bi * p.Nk, j0, kn, bk, width, col0, d);
        for (int e = t; e < bk * d; e += nt)
        {
            dk[e] = 0f;
            dv[e] = 0f;
        }
        for (int i0 = 0; i0 < p.Nq; i0 += bq)
        {
            int rows = Math.Min(bq, p.Nq - i0);
            LoadTile(p.Q, qs, bi * p.Nq, i0, rows, bq, width, col0, d);
            LoadTile(p.DO, dos, bi * p.Nq, i0, rows, bq, width, col0, d);
            Group.Barrier();
            for (int e = t; e < bq * bk; e += nt)
            {
                int i = e / bk, j = e % bk;
                float prob = 0f, ds = 0f;
                if (i < rows && j < kn) PairGrad(p, qs, dos, ks, vs, i, j, bh * p.Nq + i0 + i, out prob, out ds);
                pt[i * sld + j] = prob;
                dst[i * sld + j] = ds;
            }
            Group.Barrier();
            for (int e = t; e < bk * d; e += nt)
            {
                int j = e / d, c = e % d;
                float av = dv[e], ak = dk[e];
                for (int i = 0; i < rows; i++)
                {
                    av += pt[i * sld + j] * dos[i * ld + c];
                    ak += dst[i * sld + j] * qs[i * ld + c];
                }
                dv[e] = av;
                dk[e] = ak;
            }
            Group.Barrier();
        }
        for (int e = t; e < kn * d; e += nt)
        {
            int j = e / d, c = e % d, at = (bi * p.Nk + j0 + j) * width + col0 + c;
            p.DK[at] = dk[e];
            p.DV[at] = dv[e];
        }
    }

    /// <summary>dq of one query tile: loops over every key tile, accumulating dS·K in shared memory.</summary>
    [Kernel(grouped: true)]
    public static void BackwardQ(AttentionArgs p)
    {
        int d = p.D, ld = d + 1, bq = p.BQ, bk = p.BK, sld = bk + 1;
        int bh = Grid.IdxY, h = bh % p.Heads, bi = bh / p.Heads, width = p.Heads * d, col0 = h * d;
        int i0 = Grid.IdxX * bq, rows = Math.Min(bq, p.Nq - i0);
        int t = Group.IdxX, nt = Group.DimX;
        var shared = SharedMemory.GetDynamic<float>();
        var qs = shared.SubView(0, bq * ld);
        var dos = shared.SubView(bq * ld, bq * ld);
        var dq = shared.SubView(2 * bq * ld, bq * d);
        int o = 2 * bq * ld + bq * d;
        var ks = shared.SubView(o, bk * ld);
        var vs = shared.SubView(o + bk * ld, bk * ld);
        var dst = shared.SubView(o + 2 * bk * ld, bq * sld);

        LoadTile(p.Q, qs, bi * p.Nq, i0, rows, bq, width, col0, d);
        LoadTile(p.DO, dos, bi * p.Nq, i0, rows, bq, width, col0, d);
        for (int e = t; e < bq * d; e += nt) dq[e] = 0f;
        for (int j0 = 0; j0 < p.Nk; j0 += bk)
        {
            int kn = Math.Min(bk, p.Nk - j0);
            LoadTile(p.K, ks, bi * p.Nk, j0, kn, bk, width, col0, d);
            LoadTile(p.V, vs, bi * p.Nk, j0, kn, bk, width, col0, d);
            Group.Barrier();
            for (int e = t; e < bq * bk; e += nt)
            {
                int i = e / bk, j = e % bk;
                float prob = 0f, ds = 0f;
                if (i < rows && j < kn) PairGrad(p, qs, dos, ks, vs, i, j, bh * p.Nq + i0 + i, out prob, out ds);
                dst[i * sld + j] = ds;
            }
            Group.Barrier();
            for (int e = t; e < bq * d; e += nt)
            {
                int i = e / d, c = e % d;
                float acc = dq[e];
                for (int j = 0; j < kn; j++) acc += dst[i * sld + j] * ks[j * ld + c];
                dq[e] = acc;
            }
            Group.Barrier();
        }
        for (int e = t; e < rows * d; e += nt)
        {
            int i = e / d, c = e % d;
            p.DQ[(bi * p.Nq + i0 + i) * width + col0 + c] = dq[e];
        }
    }
}
