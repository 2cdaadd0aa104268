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
        if (_plan.AttentionTiled(d))
        {
            var t = new AttentionTileArgs
            {
                Q = V(q), K = V(k), V = V(v), O = V(o), Lse = V(lse),
                Nq = nq, Nk = nk, Heads = heads, HeadWidth = d, Scale = scale,
            };
            t.DO = t.DQ = t.DK = t.DV = t.O;
            _k.AttentionForward(d > 32)(AttentionTileGrid((nq + AttentionKernels.ForwardRows - 1) / AttentionKernels.ForwardRows, heads, b,
                AttentionKernels.ForwardThreads), t);
            return;
        }
        var (bq, bk) = _plan.AttentionTiles(d, AttentionGeneralKernels.ForwardShared);
        var p = new AttentionArgs
        {
            Q = V(q), K = V(k), V = V(v), O = V(o), Lse = V(lse),
            Nq = nq, Nk = nk, Heads = heads, D = d, BQ = bq, BK = bk, Scale = scale,
        };
        p.DO = p.DQ = p.DK = p.DV = p.Delta = p.O;
        _k.AttentionGeneralForward(AttentionGrid((nq + bq - 1) / bq, b * heads, AttentionGeneralKernels.ForwardShared(d, bq, bk)), p);
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
        if (_plan.AttentionTiled(d)) AttentionTiledBackward(q, k, v, o, lse, dO, dq, dk, dv, b, nq, nk, heads, d, scale);
        else AttentionGeneralBackward(q, k, v, o, lse, dO, dq, dk, dv, b, nq, nk, heads, d, scale);
    }

    /// <summary>
    /// One launch when the keys fit one group's tile (every model here); with more keys each key tile
    /// writes a dq partial and one column reduction sums them in tile order.
    /// </summary>
    private void AttentionTiledBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        int tiles = (nk + AttentionKernels.BackwardKeys - 1) / AttentionKernels.BackwardKeys;
        int size = b * nq * heads * d;
        var t = new AttentionTileArgs
        {
            Q = V(q), K = V(k), V = V(v), O = V(o), Lse = V(lse), DO = V(dO),
            DQ = V(dq), DK = V(dk), DV = V(dv),
            Nq = nq, Nk = nk, Heads = heads, HeadWidth = d, Scale = scale, DqTileStride = size,
        };
        var grid = AttentionTileGrid(tiles, heads, b, AttentionKernels.BackwardThreads);
        if (tiles == 1)
        {
            _k.AttentionBackward(d > 32)(grid, t);
            return;
        }
        using var partials = Allocate((long)tiles * size).Lease();
        t.DQ = V(partials.Buffer);
        _k.AttentionBackward(d > 32)(grid, t);
        _k.ReduceColumns(size, t.DQ, V(dq), tiles, size, tiles, 1, ReduceCode.Sum);
    }

    private void AttentionGeneralBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        using var delta = Allocate((long)b * heads * nq).Lease();
        var p = new AttentionArgs
        {
            Q = V(q), K = V(k), V = V(v), O = V(o), Lse = V(lse), DO = V(dO),
            DQ = V(dq), DK = V(dk), DV = V(dv), Delta = V(delta.Buffer),
            Nq = nq, Nk = nk, Heads = heads, D = d, Scale = scale,
        };
        _k.AttentionGeneralDelta(b * heads * nq, p);
        (p.BQ, p.BK) = _plan.AttentionTiles(d, AttentionGeneralKernels.BackwardKVShared);
        _k.AttentionGeneralBackwardKV(AttentionGrid((nk + p.BK - 1) / p.BK, b * heads, AttentionGeneralKernels.BackwardKVShared(d, p.BQ, p.BK)), p);
        (p.BQ, p.BK) = _plan.AttentionTiles(d, AttentionGeneralKernels.BackwardQShared);
        _k.AttentionGeneralBackwardQ(AttentionGrid((nq + p.BQ - 1) / p.BQ, b * heads, AttentionGeneralKernels.BackwardQShared(d, p.BQ, p.BK)), p);
    }

    private KernelConfig AttentionGrid(int tiles, int heads, int sharedFloats) => new(
        new Index2D(tiles, heads), new Index2D(_plan.AttentionGroup, 1), SharedMemoryConfig.RequestDynamic<float>(sharedFloats));

    /// <summary>Grid (tiles, heads, batch) of the tiled kernels, whose group size is fixed and shared memory static.</summary>
    private KernelConfig AttentionTileGrid(int tiles, int heads, int batch, int threads)
    {
        var grid = new Index3D(tiles, heads, batch);
        var max = _acc.MaxGridSize;
        if (grid.Y > max.Y || grid.Z > max.Z)
            throw new NotSupportedException($"{Name} backend: attention over {batch} × {heads} heads needs a grid of {grid}, beyond the device's {max}");
        return new KernelConfig(grid, new Index3D(threads, 1, 1));
    }
}
