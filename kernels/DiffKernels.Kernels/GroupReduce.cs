using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Reductions across one 1-D thread group: a butterfly within each warp (every lane ends with the
/// warp's value), then the warp results through shared memory, combined in warp order by every
/// thread so the result is the same in all of them and does not depend on timing. Group sizes are
/// multiples of the warp size. Each call begins with a barrier, so calls may follow one another
/// on the same scratch.
/// </summary>
internal static class GroupReduce
{
    /// <summary>Upper bound of warps per group (1024 threads of 32, or 16 of 4 on the emulator): the scratch size.</summary>
    public const int MaxWarps = 32;

    public static float Sum(float v, ArrayView<float> scratch)
    {
        for (int mask = Warp.WarpSize / 2; mask > 0; mask >>= 1) v += Warp.ShuffleXor(v, mask);
        Group.Barrier();
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float s = scratch[0];
        for (int w = 1; w < warps; w++) s += scratch[w];
        return s;
    }

    public static float Max(float v, ArrayView<float> scratch)
    {
        for (int mask = Warp.WarpSize / 2; mask > 0; mask >>= 1) v = MathF.Max(v, Warp.ShuffleXor(v, mask));
        Group.Barrier();
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float s = scratch[0];
        for (int w = 1; w < warps; w++) s = MathF.Max(s, scratch[w]);
        return s;
    }

    /// <summary>Sum, maximum or minimum by <see cref="ReduceCode"/>.</summary>
    public static float Combine(int op, float v, ArrayView<float> scratch)
    {
        for (int mask = Warp.WarpSize / 2; mask > 0; mask >>= 1) v = KernelMath.Combine(op, v, Warp.ShuffleXor(v, mask));
        Group.Barrier();
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float s = scratch[0];
        for (int w = 1; w < warps; w++) s = KernelMath.Combine(op, s, scratch[w]);
        return s;
    }
}
