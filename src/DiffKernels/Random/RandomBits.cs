using System.Runtime.CompilerServices;

namespace DiffKernels.Random;

/// <summary>The word-to-float mappings shared by the random kernels (see IBackend.FillUniform / FillNormal).</summary>
internal static class RandomBits
{
    /// <summary>Philox blocks consumed by a draw of <paramref name="count"/> elements.</summary>
    public static ulong Blocks(long count) => (ulong)((count + 3) / 4);

    /// <summary>The top 24 bits as a float in [0, 1); exact, so 1 is never produced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(uint u) => (u >> 8) * (1f / 16777216f);

    /// <summary>Box–Muller on a word pair: the cosine and sine branches, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (double Z0, double Z1) BoxMuller(uint a, uint c)
    {
        double u1 = ((a >> 8) + 1) * (1.0 / 16777216.0);
        double u2 = (c >> 8) * (1.0 / 16777216.0);
        double rho = Math.Sqrt(-2.0 * Math.Log(u1));
        double theta = 2.0 * Math.PI * u2;
        return (rho * Math.Cos(theta), rho * Math.Sin(theta));
    }
}
