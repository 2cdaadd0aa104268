namespace DiffKernels.Bench.Baselines;

/// <summary>Pinned host arrays of seeded random values for baselines and for uploading inputs.</summary>
public static class HostArrays
{
    /// <summary>n values uniform in [-1, 1) from <paramref name="seed"/>, in a pinned array.</summary>
    public static float[] Random(long n, int seed)
    {
        var v = GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);
        var rng = new System.Random(seed);
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>n zeros in a pinned array.</summary>
    public static float[] Zeros(long n) => GC.AllocateArray<float>(checked((int)n), pinned: true);
}
