using DiffKernels.Backends;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void AttentionForward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse,
        int b, int nq, int nk, int heads, int d, float scale)
    {
        if (b * heads * nq == 0) return;
        var (bq, bk) = _plan.AttentionTiles(d, AttentionKernels.ForwardShared);
        var p = new AttentionArgs
        {
            Q = V(q), K = V(k), V = V(v), O = V(o), Lse = V(lse),
            Nq = nq, Nk = nk, Heads = heads, D = d, BQ = bq, BK = bk, Scale = scale,
        };
        p.DO = p.DQ = p.DK = p.DV = p.Delta = p.O;
        _k.AttentionForward(AttentionGrid((nq + bq - 1) / bq, b * heads, AttentionKernels.ForwardShared(d, bq, bk)), p);
    }

    /// <inheritdoc/>
    public void AttentionBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        if (b * heads == 0) return;
        if (nq == 0)
        {
            // No queries: nothing flows into the keys and values.
            Fill(dk, 0, dk.Length, 0f);
            Fill(dv, 0, dv.Length, 0f);
            return;
        }
        using var delta = Allocate((long)b * heads * nq).Lease();
        var p = new AttentionArgs
        {
            Q = V(q), K = V(k), V = V(v), O = V(o), Lse = V(lse), DO = V(dO),
            DQ = V(dq), DK = V(dk), DV = V(dv), Delta = V(delta.Buffer),
            Nq = nq, Nk = nk, Heads = heads, D = d, Scale = scale,
        };
        _k.AttentionDelta(b * heads * nq, p);
        (p.BQ, p.BK) = _plan.AttentionTiles(d, AttentionKernels.BackwardKVShared);
        _k.AttentionBackwardKV(AttentionGrid((nk + p.BK - 1) / p.BK, b * heads, AttentionKernels.BackwardKVShared(d, p.BQ, p.BK)), p);
        (p.BQ, p.BK) = _plan.AttentionTiles(d, AttentionKernels.BackwardQShared);
        _k.AttentionBackwardQ(AttentionGrid((nq + p.BQ - 1) / p.BQ, b * heads, AttentionKernels.BackwardQShared(d, p.BQ, p.BK)), p);
    }

    private KernelConfig AttentionGrid(int tiles, int heads, int sharedFloats) => new(
        new Index2D(tiles, heads), new Index2D(_plan.AttentionGroup, 1), SharedMemoryConfig.RequestDynamic<float>(sharedFloats));
}
