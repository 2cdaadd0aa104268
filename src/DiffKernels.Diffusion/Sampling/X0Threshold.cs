using System.Globalization;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// x0 thresholding ("reflected diffusion"), as one float: 0 clips every x0 estimate to the data range [−1, 1]
/// (static); q in (0, 1] divides it by s = max(1, the q-quantile of |x0| over the sample) after clipping to [−s, s]
/// (dynamic, Imagen's 0.995); −B clips to [−B, B], for data whose range is not [−1, 1] (the 2D toys). Spelled "clip",
/// "clip:B", "dynamic" (q = 0.995) or "dynamic:Q" on the command line and in metadata.
/// </summary>
public static class X0Threshold
{
    /// <summary>The quantile of "dynamic" without a value.</summary>
    public const float DefaultQuantile = 0.995f;

    /// <summary>Parses "none" (null), "clip" (0), "clip:B" with B &gt; 0 (−B; "clip:1" is "clip"), "dynamic" or "dynamic:Q" with Q in (0, 1]; anything else throws naming the value.</summary>
    public static float? Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "none") return null;
        if (t == "clip") return 0f;
        if (t.StartsWith("clip:", StringComparison.Ordinal)
            && float.TryParse(t["clip:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out float b) && b > 0 && float.IsFinite(b))
            return b == 1f ? 0f : -b;
        if (t == "dynamic") return DefaultQuantile;
        if (t.StartsWith("dynamic:", StringComparison.Ordinal)
            && float.TryParse(t["dynamic:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out float q) && q > 0 && q <= 1)
            return q;
        throw new ArgumentException($"unknown x0 threshold '{text}'; expected none, clip, clip:B with B > 0, dynamic or dynamic:Q with 0 < Q ≤ 1");
    }

    /// <summary>Throws, naming <paramref name="owner"/>, unless <paramref name="threshold"/> is null, a quantile in [0, 1] or a finite negative bound.</summary>
    public static void Validate(float? threshold, string owner)
    {
        if (threshold is { } t && !(t >= 0 && t <= 1 || t < 0 && float.IsFinite(t)))
            throw new ArgumentException($"{owner}: x0 threshold {t.ToString("R", CultureInfo.InvariantCulture)} is neither a quantile in [0, 1] (0: clip) nor a negative bound −B (clip:B)");
    }

    /// <summary>The spelling <see cref="Parse"/> reads back: "none", "clip", "clip:B" or "dynamic:Q".</summary>
    public static string Format(float? threshold) => threshold switch
    {
        null => "none",
        0f => "clip",
        < 0f and var b => "clip:" + (-b).ToString("R", CultureInfo.InvariantCulture),
        { } q => "dynamic:" + q.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// <paramref name="x0"/> thresholded as <paramref name="threshold"/> says (unchanged when null). A bound B ≠ 1 runs the
    /// unit clip on x0/B and scales back, so one device op serves every range.
    /// </summary>
    public static Tensor Apply(Tensor x0, float? threshold) => threshold switch
    {
        null => x0,
        < 0f and var b => F.MulScalar(F.ThresholdX0(F.MulScalar(x0, -1f / b), 0f), -b),
        { } q => F.ThresholdX0(x0, q),
    };
}
