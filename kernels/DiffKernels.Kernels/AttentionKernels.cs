using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Arguments of the tiled attention kernels. q, o, dO, dq are [B, Nq, H·d]; k, v, dk, dv are [B, Nk, H·d];
/// lse is [B, H, Nq]. The backward writes the dq of key tile z at DQ[z·DqTileStride ..] (DQ is dq
/// itself when the keys fit one tile, else a buffer of per-tile partials the host sums).
/// </summary>
internal struct AttentionTileArgs
{
    public ArrayView<float> Q, K, V, O, Lse, DO, DQ, DK, DV;
    public int Nq, Nk, Heads, HeadWidth, DqTileStride;
    public float Scale;
}

/// <summary>
/// Fused multi-head attention for heads up to 64 wide, FlashAttention-2 style with register tiles,
/// specialised for the short sequences of the models here (49 or 64 tokens): the head width is a
/// compile-time <see cref="IAttentionShape"/>, a 4-lane quad shares query rows (forward) or keys
/// (backward) and reduces by two warp shuffles (so a warp of 4 suffices), and no Nq × Nk matrix reaches
/// global memory.
/// <para>
/// Forward: one group of 128 threads per (64 query rows, head, batch). Q stays in shared memory; K and V
/// come in tiles of 32 keys. Quad q owns rows q and q + 32: each lane computes their scores against
/// keys lane + 4m (a 2 × 8 register tile, 64 FMAs per ten 128-bit shared loads), the quad updates the
/// running maximum and sum by shuffles (online softmax), writes the probabilities to its own shared
/// rows and accumulates P·V into the lane's columns of the two output rows (2 × D/4 in registers).
/// The log-sum-exp of every row is saved for the backward.
/// </para>
/// <para>
/// Backward, one launch: one group of 128 threads per (64 keys, head, batch) owns their dk and dv, so
/// nothing is accumulated across groups. Quad q holds the k and v rows of keys q and q + 32 in
/// registers, one quarter of the columns per lane. Four query rows at a time, it recomputes the scores
/// and dP = dO·v (sixteen partial dot products summed by one pair of shuffles), P from the saved
/// log-sum-exp and dS = P·(dP − Δ), with Δ = dO·O computed once per query tile, and adds P·dO to dv and
/// dS·q to dk in registers; dS goes to shared memory, from which the group then forms the query tile's
/// dq = dS·K (4 × 4 register tiles). With more than 64 keys every key tile writes its own dq partial and
/// the host sums them in a fixed order, so results never depend on timing.
/// </para>
/// <para>
/// Shuffles are packed (two rows' maxima in one, sixteen partial sums in one) because on ILGPU's CPU
/// emulator every shuffle is a rendezvous of the warp's threads: the tests' cost is the number of
/// exchanges, not their width.
/// </para>
/// Shared rows are padded by four floats: 128-bit aligned, and the rows a quad reads at once fall in
/// distinct banks. Grid: (tiles along the owned axis, heads, batch), so no index needs a division.
/// </summary>
internal static class AttentionKernels
{
    /// <summary>Threads of a <see cref="Forward"/> group.</summary>
    public const int ForwardThreads = 128;

    /// <summary>Query rows of a <see cref="Forward"/> group.</summary>
    public const int ForwardRows = 64;

    /// <summary>Keys per tile of <see cref="Forward"/>.</summary>
    public const int ForwardKeys = 32;

    /// <summary>Threads of a <see cref="Backward"/> group.</summary>
    public const int BackwardThreads = 128;

    /// <summary>Keys a <see cref="Backward"/> group owns.</summary>
    public const int BackwardKeys = 64;

    private const int Pad = 4;

    /// <summary>Query rows per tile of <see cref="Backward"/> at head width <paramref name="d"/> (32 or 64): dq is 16 values per thread.</summary>
    private static int BackwardRows(int d) => 2048 / d;

    /// <summary>o and the log-sum-exp of one tile of 64 query rows of one (head, batch).</summary>
    [Kernel(grouped: true)]
    public static void Forward<TS>(AttentionTileArgs p) where TS : struct, IAttentionShape
    {
        const int ldp = ForwardKeys + Pad, ldp4 = ldp / 4;
        int ld4 = (default(TS).D + Pad) >> 2;
        var qs = SharedMemory.Allocate<float>(ForwardRows * (default(TS).D + Pad));
        var ks = SharedMemory.Allocate<float>(ForwardKeys * (default(TS).D + Pad));
        var vs = SharedMemory.Allocate<float>(ForwardKeys * (default(TS).D + Pad));
        var ps = SharedMemory.Allocate<float>(ForwardRows * ldp);
        var qs4 = qs.Cast<Float4>();
        var ks4 = ks.Cast<Float4>();
        var vs4 = vs.Cast<Float4>();
        var ps4 = ps.Cast<Float4>();

        int t = Group.IdxX, lane = t & 3, row0 = t >> 2, row1 = row0 + ForwardRows / 2;
        int h = Grid.IdxY, bi = Grid.IdxZ, bh = bi * p.Heads + h, d = p.HeadWidth, width = p.Heads * d, col0 = h * d;
        int i0 = Grid.IdxX * ForwardRows, rows = Math.Min(ForwardRows, p.Nq - i0);
        Stage<TS>(p.Q, qs, bi * p.Nq + i0, rows, ForwardRows, ForwardThreads, width, col0, d, t);

        var o0 = default(HeadChunks);
        var o1 = default(HeadChunks);
        var m = new Pair { A = float.NegativeInfinity, B = float.NegativeInfinity };
        var l = default(Pair);
        for (int j0 = 0; j0 < p.Nk; j0 += ForwardKeys)
        {
            int kn = Math.Min(ForwardKeys, p.Nk - j0);
            Group.Barrier();
            Stage<TS>(p.K, ks, bi * p.Nk + j0, kn, ForwardKeys, ForwardThreads, width, col0, d, t);
            Stage<TS>(p.V, vs, bi * p.Nk + j0, kn, ForwardKeys, ForwardThreads, width, col0, d, t);
            Group.Barrier();

            Scores<TS>(qs4, ks4, row0, row1, lane, out var s0, out var s1);
            s0.Mask(p.Scale, lane, kn);
            s1.Mask(p.Scale, lane, kn);
            OnlineSoftmax<TS>(ref s0, ref s1, ref m, ref l, ref o0, ref o1);
            s0.Store(ps, row0 * ldp + lane);
            s1.Store(ps, row1 * ldp + lane);
            // The probabilities a quad wrote are read back by the same quad only.
            Warp.Barrier();

            int groups = (kn + 3) >> 2;
            for (int j4 = 0; j4 < groups; j4++)
            {
                Float4 p0 = ps4[row0 * ldp4 + j4], p1 = ps4[row1 * ldp4 + j4];
                int vr = 4 * j4;
                var v = HeadChunks.Load<TS>(vs4, vr, ld4, lane);
                o0.Axpy<TS>(p0.X, v);
                o1.Axpy<TS>(p1.X, v);
                v = HeadChunks.Load<TS>(vs4, vr + 1, ld4, lane);
                o0.Axpy<TS>(p0.Y, v);
                o1.Axpy<TS>(p1.Y, v);
                v = HeadChunks.Load<TS>(vs4, vr + 2, ld4, lane);
                o0.Axpy<TS>(p0.Z, v);
                o1.Axpy<TS>(p1.Z, v);
                v = HeadChunks.Load<TS>(vs4, vr + 3, ld4, lane);
                o0.Axpy<TS>(p0.W, v);
                o1.Axpy<TS>(p1.W, v);
            }
        }

        WriteRow<TS>(p, o0, l.A, m.A, bh, bi, i0, row0, rows, lane, width, col0);
        WriteRow<TS>(p, o1, l.B, m.B, bh, bi, i0, row1, rows, lane, width, col0);
    }

    /// <summary>dk and dv of 64 keys of one (head, batch), and those keys' share of dq.</summary>
    [Kernel(grouped: true)]
    public static void Backward<TS>(AttentionTileArgs p) where TS : struct, IAttentionShape
    {
        const int lds = BackwardKeys + Pad, lds4 = lds / 4, half = BackwardKeys / 2;
        int dd = default(TS).D, ld4 = (dd + Pad) >> 2, bq = BackwardRows(dd);
        var qs = SharedMemory.Allocate<float>(BackwardRows(default(TS).D) * (default(TS).D + Pad));
        var dos = SharedMemory.Allocate<float>(BackwardRows(default(TS).D) * (default(TS).D + Pad));
        var ks = SharedMemory.Allocate<float>(BackwardKeys * (default(TS).D + Pad));
        var dss = SharedMemory.Allocate<float>(BackwardRows(default(TS).D) * lds);
        var lses = SharedMemory.Allocate<float>(BackwardRows(default(TS).D));
        var deltas = SharedMemory.Allocate<float>(BackwardRows(default(TS).D));
        var qs4 = qs.Cast<Float4>();
        var dos4 = dos.Cast<Float4>();
        var ks4 = ks.Cast<Float4>();
        var dss4 = dss.Cast<Float4>();

        // Quad q owns keys q and q + 32 of the tile.
        int t = Group.IdxX, quad = t >> 2, lane = t & 3;
        int h = Grid.IdxY, bi = Grid.IdxZ, bh = bi * p.Heads + h, d = p.HeadWidth, width = p.Heads * d, col0 = h * d;
        int j0 = Grid.IdxX * BackwardKeys, kn = Math.Min(BackwardKeys, p.Nk - j0);
        bool validA = quad < kn, validB = quad + half < kn;
        int keyA = (bi * p.Nk + j0 + quad) * width + col0, keyB = keyA + half * width;
        var ka = HeadChunks.LoadGlobal<TS>(p.K, keyA, lane, d, validA);
        var kb = HeadChunks.LoadGlobal<TS>(p.K, keyB, lane, d, validB);
        var va = HeadChunks.LoadGlobal<TS>(p.V, keyA, lane, d, validA);
        var vb = HeadChunks.LoadGlobal<TS>(p.V, keyB, lane, d, validB);
        Stage<TS>(p.K, ks, bi * p.Nk + j0, kn, BackwardKeys, BackwardThreads, width, col0, d, t);

        // dq of a query tile: thread t owns columns 4·cc .. +3 of rows rq + m·bq/4, m = 0..3.
        int chunkBits = dd == 64 ? 4 : 3;
        int cc = t & ((dd >> 2) - 1), rq = t >> chunkBits, rstep = bq >> 2;
        int dqBase = Grid.IdxX * p.DqTileStride;

        var dka = default(HeadChunks);
        var dkb = default(HeadChunks);
        var dva = default(HeadChunks);
        var dvb = default(HeadChunks);
        float scale = p.Scale;
        for (int i0 = 0; i0 < p.Nq; i0 += bq)
        {
            int rows = Math.Min(bq, p.Nq - i0);
            Group.Barrier();
            Stage<TS>(p.Q, qs, bi * p.Nq + i0, rows, bq, BackwardThreads, width, col0, d, t);
            Stage<TS>(p.DO, dos, bi * p.Nq + i0, rows, bq, BackwardThreads, width, col0, d, t);
            // Δ = dO·O per query row (Σⱼ Pᵢⱼ·dPᵢⱼ), one quad per row; rows past the end get an infinite
            // log-sum-exp, so their probabilities and score gradients are zero.
            for (int r = quad; r < bq; r += BackwardThreads / 4)
            {
                bool inside = r < rows;
                int at = (bi * p.Nq + i0 + r) * width + col0;
                float delta = HeadChunks.LoadGlobal<TS>(p.DO, at, lane, d, inside).Dot<TS>(HeadChunks.LoadGlobal<TS>(p.O, at, lane, d, inside), 0f);
                delta += Warp.ShuffleXor(delta, 1);
                delta += Warp.ShuffleXor(delta, 2);
                if (lane == 0)
                {
                    deltas[r] = delta;
                    lses[r] = inside ? p.Lse[bh * p.Nq + i0 + r] : float.PositiveInfinity;
                }
            }
            Group.Barrier();

            // Four query rows at a time, so the quad sums all sixteen partial dot products in one pair of shuffles.
            for (int i = 0; i < rows; i += 4)
            {
                var part = default(HeadChunks);
                PartialScores<TS>(ref part, 0, qs4, dos4, i, ld4, lane, ka, kb, va, vb);
                PartialScores<TS>(ref part, 1, qs4, dos4, i + 1, ld4, lane, ka, kb, va, vb);
                PartialScores<TS>(ref part, 2, qs4, dos4, i + 2, ld4, lane, ka, kb, va, vb);
                PartialScores<TS>(ref part, 3, qs4, dos4, i + 3, ld4, lane, ka, kb, va, vb);
                part.Add(Warp.ShuffleXor(part, 1));
                part.Add(Warp.ShuffleXor(part, 2));
                var lse = Float4.Load(lses, i);
                var delta = Float4.Load(deltas, i);
                // part: C0 = scores with key a, C1 with key b, C2 = dP with key a, C3 with key b (one row per component).
                var pa = Probabilities(part.C0, lse, scale, validA);
                var pb = Probabilities(part.C1, lse, scale, validB);
                var sa = ScoreGrads(pa, part.C2, delta, scale);
                var sb = ScoreGrads(pb, part.C3, delta, scale);
                if (lane == 0)
                {
                    int at = i * lds + quad;
                    dss[at] = sa.X;
                    dss[at + half] = sb.X;
                    dss[at + lds] = sa.Y;
                    dss[at + lds + half] = sb.Y;
                    dss[at + 2 * lds] = sa.Z;
                    dss[at + 2 * lds + half] = sb.Z;
                    dss[at + 3 * lds] = sa.W;
                    dss[at + 3 * lds + half] = sb.W;
                }
                Accumulate<TS>(ref dka, ref dkb, ref dva, ref dvb, qs4, dos4, i, ld4, lane, pa.X, pb.X, sa.X, sb.X);
                Accumulate<TS>(ref dka, ref dkb, ref dva, ref dvb, qs4, dos4, i + 1, ld4, lane, pa.Y, pb.Y, sa.Y, sb.Y);
                Accumulate<TS>(ref dka, ref dkb, ref dva, ref dvb, qs4, dos4, i + 2, ld4, lane, pa.Z, pb.Z, sa.Z, sb.Z);
                Accumulate<TS>(ref dka, ref dkb, ref dva, ref dvb, qs4, dos4, i + 3, ld4, lane, pa.W, pb.W, sa.W, sb.W);
            }
            Group.Barrier();

            var a0 = default(Float4);
            var a1 = default(Float4);
            var a2 = default(Float4);
            var a3 = default(Float4);
            int groups = (kn + 3) >> 2;
            for (int j4 = 0; j4 < groups; j4++)
            {
                int kr = 4 * j4 * ld4 + cc;
                Float4 k0 = ks4[kr], k1 = ks4[kr + ld4], k2 = ks4[kr + 2 * ld4], k3 = ks4[kr + 3 * ld4];
                int sr = rq * lds4 + j4;
                DqStep(ref a0, dss4[sr], k0, k1, k2, k3);
                DqStep(ref a1, dss4[sr + rstep * lds4], k0, k1, k2, k3);
                DqStep(ref a2, dss4[sr + 2 * rstep * lds4], k0, k1, k2, k3);
                DqStep(ref a3, dss4[sr + 3 * rstep * lds4], k0, k1, k2, k3);
            }
            int c = 4 * cc, dqRow = dqBase + (bi * p.Nq + i0 + rq) * width + col0;
            if (rq < rows) Float4Math.Store(p.DQ, dqRow, c, d, a0);
            if (rq + rstep < rows) Float4Math.Store(p.DQ, dqRow + rstep * width, c, d, a1);
            if (rq + 2 * rstep < rows) Float4Math.Store(p.DQ, dqRow + 2 * rstep * width, c, d, a2);
            if (rq + 3 * rstep < rows) Float4Math.Store(p.DQ, dqRow + 3 * rstep * width, c, d, a3);
        }

        if (validA)
        {
            dka.Store<TS>(p.DK, keyA, lane, d);
            dva.Store<TS>(p.DV, keyA, lane, d);
        }
        if (validB)
        {
            dkb.Store<TS>(p.DK, keyB, lane, d);
            dvb.Store<TS>(p.DV, keyB, lane, d);
        }
    }

    /// <summary>
    /// The lane's partial scores and dP of shared query row <paramref name="row"/> with the quad's two keys,
    /// into component <paramref name="r"/> (a constant) of C0 (score, key a), C1 (key b), C2 (dP, key a), C3 (key b).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PartialScores<TS>(ref HeadChunks part, int r, ArrayView<Float4> qs4, ArrayView<Float4> dos4, int row, int ld4, int lane,
        HeadChunks ka, HeadChunks kb, HeadChunks va, HeadChunks vb) where TS : struct, IAttentionShape
    {
        var q = HeadChunks.Load<TS>(qs4, row, ld4, lane);
        var g = HeadChunks.Load<TS>(dos4, row, ld4, lane);
        Float4Math.Set(ref part.C0, r, q.Dot<TS>(ka, 0f));
        Float4Math.Set(ref part.C1, r, q.Dot<TS>(kb, 0f));
        Float4Math.Set(ref part.C2, r, g.Dot<TS>(va, 0f));
        Float4Math.Set(ref part.C3, r, g.Dot<TS>(vb, 0f));
    }

    /// <summary>P = exp(scale·s − lse) of four rows with one key (zero for a key past the end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 Probabilities(Float4 s, Float4 lse, float scale, bool valid) => new()
    {
        X = valid ? DeviceMath.Exp(scale * s.X - lse.X) : 0f,
        Y = valid ? DeviceMath.Exp(scale * s.Y - lse.Y) : 0f,
        Z = valid ? DeviceMath.Exp(scale * s.Z - lse.Z) : 0f,
        W = valid ? DeviceMath.Exp(scale * s.W - lse.W) : 0f,
    };

    /// <summary>dS = scale·P·(dP − Δ) of four rows with one key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 ScoreGrads(Float4 prob, Float4 dp, Float4 delta, float scale) => new()
    {
        X = scale * prob.X * (dp.X - delta.X),
        Y = scale * prob.Y * (dp.Y - delta.Y),
        Z = scale * prob.Z * (dp.Z - delta.Z),
        W = scale * prob.W * (dp.W - delta.W),
    };

    /// <summary>dv += P·dO and dk += dS·q of shared query row <paramref name="row"/> for the quad's two keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TS>(ref HeadChunks dka, ref HeadChunks dkb, ref HeadChunks dva, ref HeadChunks dvb,
        ArrayView<Float4> qs4, ArrayView<Float4> dos4, int row, int ld4, int lane, float pa, float pb, float sa, float sb)
        where TS : struct, IAttentionShape
    {
        var q = HeadChunks.Load<TS>(qs4, row, ld4, lane);
        var g = HeadChunks.Load<TS>(dos4, row, ld4, lane);
        dva.Axpy<TS>(pa, g);
        dvb.Axpy<TS>(pb, g);
        dka.Axpy<TS>(sa, q);
        dkb.Axpy<TS>(sb, q);
    }

    /// <summary>acc += dS(row, four keys) · K(those keys, four columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DqStep(ref Float4 acc, Float4 ds, Float4 k0, Float4 k1, Float4 k2, Float4 k3)
    {
        Float4Math.Axpy(ref acc, ds.X, k0);
        Float4Math.Axpy(ref acc, ds.Y, k1);
        Float4Math.Axpy(ref acc, ds.Z, k2);
        Float4Math.Axpy(ref acc, ds.W, k3);
    }

    /// <summary>
    /// Copies rows [0, rows) of one head, starting at global row <paramref name="rowBase"/>, into a shared
    /// tile of <paramref name="tileRows"/> rows of D + 4 floats, zero past the rows and past the head width d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage<TS>(ArrayView<float> src, ArrayView<float> tile, int rowBase, int rows, int tileRows, int threads,
        int width, int col0, int d, int t) where TS : struct, IAttentionShape
    {
        int dd = default(TS).D, shift = dd == 64 ? 6 : 5, ld = dd + Pad;
        for (int e = t; e < tileRows * dd; e += threads)
        {
            int r = e >> shift, c = e & (dd - 1);
            tile[r * ld + c] = r < rows && c < d ? src[(rowBase + r) * width + col0 + c] : 0f;
        }
    }

    /// <summary>Scores of query rows <paramref name="row0"/> and <paramref name="row1"/> against keys lane + 4m of the shared tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores<TS>(ArrayView<Float4> qs4, ArrayView<Float4> ks4, int row0, int row1, int lane, out KeyRow s0, out KeyRow s1)
        where TS : struct, IAttentionShape
    {
        int ld4 = (default(TS).D + Pad) >> 2, qa = row0 * ld4, qb = row1 * ld4, kb = lane * ld4, step = 4 * ld4;
        s0 = default;
        s1 = default;
        for (int c = 0; c < default(TS).D >> 2; c++)
        {
            Float4 q0 = qs4[qa + c], q1 = qs4[qb + c];
            int k = kb + c;
            s0.Lo.X = Float4Math.Dot(s0.Lo.X, q0, ks4[k]);
            s1.Lo.X = Float4Math.Dot(s1.Lo.X, q1, ks4[k]);
            s0.Lo.Y = Float4Math.Dot(s0.Lo.Y, q0, ks4[k + step]);
            s1.Lo.Y = Float4Math.Dot(s1.Lo.Y, q1, ks4[k + step]);
            s0.Lo.Z = Float4Math.Dot(s0.Lo.Z, q0, ks4[k + 2 * step]);
            s1.Lo.Z = Float4Math.Dot(s1.Lo.Z, q1, ks4[k + 2 * step]);
            s0.Lo.W = Float4Math.Dot(s0.Lo.W, q0, ks4[k + 3 * step]);
            s1.Lo.W = Float4Math.Dot(s1.Lo.W, q1, ks4[k + 3 * step]);
            s0.Hi.X = Float4Math.Dot(s0.Hi.X, q0, ks4[k + 4 * step]);
            s1.Hi.X = Float4Math.Dot(s1.Hi.X, q1, ks4[k + 4 * step]);
            s0.Hi.Y = Float4Math.Dot(s0.Hi.Y, q0, ks4[k + 5 * step]);
            s1.Hi.Y = Float4Math.Dot(s1.Hi.Y, q1, ks4[k + 5 * step]);
            s0.Hi.Z = Float4Math.Dot(s0.Hi.Z, q0, ks4[k + 6 * step]);
            s1.Hi.Z = Float4Math.Dot(s1.Hi.Z, q1, ks4[k + 6 * step]);
            s0.Hi.W = Float4Math.Dot(s0.Hi.W, q0, ks4[k + 7 * step]);
            s1.Hi.W = Float4Math.Dot(s1.Hi.W, q1, ks4[k + 7 * step]);
        }
    }

    /// <summary>
    /// Moves the running maxima <paramref name="m"/> and sums <paramref name="l"/> of the two rows to this
    /// key tile (the quad's maxima and sums by shuffles, both rows in one), turns the scores into
    /// exp(s − m) and rescales the outputs accumulated so far.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OnlineSoftmax<TS>(ref KeyRow s0, ref KeyRow s1, ref Pair m, ref Pair l, ref HeadChunks o0, ref HeadChunks o1)
        where TS : struct, IAttentionShape
    {
        var tileMax = new Pair { A = s0.Max(), B = s1.Max() };
        tileMax = Pair.Max(tileMax, Warp.ShuffleXor(tileMax, 1));
        tileMax = Pair.Max(tileMax, Warp.ShuffleXor(tileMax, 2));
        var mNew = Pair.Max(m, tileMax);
        float corr0 = DeviceMath.Exp(m.A - mNew.A), corr1 = DeviceMath.Exp(m.B - mNew.B);
        var sum = new Pair { A = s0.Exp(mNew.A), B = s1.Exp(mNew.B) };
        sum = Pair.Add(sum, Warp.ShuffleXor(sum, 1));
        sum = Pair.Add(sum, Warp.ShuffleXor(sum, 2));
        l = new Pair { A = l.A * corr0 + sum.A, B = l.B * corr1 + sum.B };
        m = mNew;
        o0.Scale<TS>(corr0);
        o1.Scale<TS>(corr1);
    }

    /// <summary>Writes one output row (normalised by its sum) and its log-sum-exp when it lies inside the query tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow<TS>(AttentionTileArgs p, HeadChunks o, float l, float m, int bh, int bi, int i0, int row, int rows,
        int lane, int width, int col0) where TS : struct, IAttentionShape
    {
        if (row >= rows) return;
        o.Scale<TS>(1f / l);
        o.Store<TS>(p.O, (bi * p.Nq + i0 + row) * width + col0, lane, p.HeadWidth);
        if (lane == 0) p.Lse[bh * p.Nq + i0 + row] = m + DeviceMath.Log(l);
    }
}

/// <summary>A lane's scores of one query row against keys lane + 4m, m = 0..7 (Lo: m &lt; 4).</summary>
internal struct KeyRow
{
    public Float4 Lo, Hi;

    /// <summary>Scales the scores; keys at or past <paramref name="kn"/> become −∞ (probability 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mask(float scale, int lane, int kn)
    {
        Lo.X = lane < kn ? scale * Lo.X : float.NegativeInfinity;
        Lo.Y = lane + 4 < kn ? scale * Lo.Y : float.NegativeInfinity;
        Lo.Z = lane + 8 < kn ? scale * Lo.Z : float.NegativeInfinity;
        Lo.W = lane + 12 < kn ? scale * Lo.W : float.NegativeInfinity;
        Hi.X = lane + 16 < kn ? scale * Hi.X : float.NegativeInfinity;
        Hi.Y = lane + 20 < kn ? scale * Hi.Y : float.NegativeInfinity;
        Hi.Z = lane + 24 < kn ? scale * Hi.Z : float.NegativeInfinity;
        Hi.W = lane + 28 < kn ? scale * Hi.W : float.NegativeInfinity;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Max() =>
        MathF.Max(MathF.Max(MathF.Max(Lo.X, Lo.Y), MathF.Max(Lo.Z, Lo.W)), MathF.Max(MathF.Max(Hi.X, Hi.Y), MathF.Max(Hi.Z, Hi.W)));

    /// <summary>Replaces every score s by exp(s − <paramref name="m"/>) and returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Exp(float m)
    {
        Lo.X = DeviceMath.Exp(Lo.X - m);
        Lo.Y = DeviceMath.Exp(Lo.Y - m);
        Lo.Z = DeviceMath.Exp(Lo.Z - m);
        Lo.W = DeviceMath.Exp(Lo.W - m);
        Hi.X = DeviceMath.Exp(Hi.X - m);
        Hi.Y = DeviceMath.Exp(Hi.Y - m);
        Hi.Z = DeviceMath.Exp(Hi.Z - m);
        Hi.W = DeviceMath.Exp(Hi.W - m);
        return Lo.X + Lo.Y + Lo.Z + Lo.W + Hi.X + Hi.Y + Hi.Z + Hi.W;
    }

    /// <summary>Writes the eight values to their keys' columns of a shared row starting at <paramref name="at"/> − lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ArrayView<float> row, int at)
    {
        row[at] = Lo.X;
        row[at + 4] = Lo.Y;
        row[at + 8] = Lo.Z;
        row[at + 12] = Lo.W;
        row[at + 16] = Hi.X;
        row[at + 20] = Hi.Y;
        row[at + 24] = Hi.Z;
        row[at + 28] = Hi.W;
    }
}

/// <summary>Two floats shuffled together (one warp exchange on the emulator, two 32-bit shuffles on a GPU).</summary>
internal struct Pair
{
    public float A, B;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair Max(Pair x, Pair y) => new() { A = MathF.Max(x.A, y.A), B = MathF.Max(x.B, y.B) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair Add(Pair x, Pair y) => new() { A = x.A + y.A, B = x.B + y.B };
}
