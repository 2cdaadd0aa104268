namespace DiffKernels.Backends;

/// <summary>The bias contract of <see cref="IBackend.Gemm"/>, checked the same way by every backend.</summary>
public static class GemmBias
{
    /// <summary>
    /// Fails unless <paramref name="bias"/> is null, or holds at least <paramref name="n"/> values with
    /// <paramref name="beta"/> 0.
    /// </summary>
    public static void Check(DeviceBuffer? bias, int n, float beta)
    {
        if (bias == null) return;
        if (beta != 0f) throw new ArgumentException($"Gemm: a bias needs beta = 0, got {beta}", nameof(bias));
        if (bias.Length < n) throw new ArgumentOutOfRangeException(nameof(bias), $"Gemm: a bias of {bias.Length} elements is shorter than the {n} columns");
    }
}
