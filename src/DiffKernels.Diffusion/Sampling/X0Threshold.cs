using System.Globalization;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// x0 thresholding ("reflected diffusion"), as a quantile: 0 clips every x0 estimate to the data range [−1, 1]
/// (static); q in (0, 1] divides it by s = max(1, the q-quantile of |x0| over the sample) after clipping to [−s, s]
/// (dynamic, Imagen's 0.995). Spelled "clip", "dynamic" (q = 0.995) or "dynamic:Q" on the command line and in metadata.
/// </summary>
public static class X0Threshold
{
    /// <summary>The quantile of "dynamic" without a value.</summary>
    public const float DefaultQuantile = 0.995f;

    /// <summary>Parses "none" (null), "clip" (0), "dynamic" or "dynamic:Q" with Q in (0, 1]; anything else throws naming the value.</summary>
    public static float? Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "none") return null;
        if (t == "clip") return 0f;
        if (t == "dynamic") return DefaultQuantile;
        if (t.StartsWith("dynamic:", StringComparison.Ordinal)
            && float.TryParse(t["dynamic:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out float q) && q > 0 && q <= 1)
            return q;
        throw new ArgumentException($"unknown x0 threshold '{text}'; expected none, clip, dynamic or dynamic:Q with 0 < Q ≤ 1");
    }

    /// <summary>The spelling <see cref="Parse"/> reads back: "none", "clip" or "dynamic:Q".</summary>
    public static string Format(float? quantile) => quantile switch
    {
        null => "none",
        0f => "clip",
        { } q => "dynamic:" + q.ToString("R", CultureInfo.InvariantCulture),
    };
}
