namespace DiffKernels.Bench;

/// <summary>What a case's figure measures.</summary>
public enum BenchUnit
{
    /// <summary>Useful floating-point operations per second (higher is better).</summary>
    GflopPerSecond,

    /// <summary>Minimal memory traffic per second: each input read once, each output written once (higher is better).</summary>
    GBPerSecond,

    /// <summary>Milliseconds per step (lower is better).</summary>
    MsPerStep,

    /// <summary>Images drawn per second, the case's work being the images of one run (higher is better).</summary>
    ImagesPerSecond,
}

/// <summary>Conversions between run times and a unit's figures.</summary>
public static class BenchUnits
{
    /// <summary>The unit as printed and written to JSON.</summary>
    public static string Text(this BenchUnit unit) => unit switch
    {
        BenchUnit.GflopPerSecond => "GFLOP/s",
        BenchUnit.GBPerSecond => "GB/s",
        BenchUnit.ImagesPerSecond => "images/s",
        _ => "ms/step",
    };

    /// <summary>The figure for one run of <paramref name="seconds"/> doing <paramref name="work"/> FLOPs, bytes or images.</summary>
    public static double Value(this BenchUnit unit, double work, double seconds) => unit switch
    {
        BenchUnit.MsPerStep => seconds * 1e3,
        BenchUnit.ImagesPerSecond => work / seconds,
        _ => work / seconds / 1e9,
    };

    /// <summary>Ours over the baseline in speed: above 1 means ours is faster, whatever the unit.</summary>
    public static double Ratio(this BenchUnit unit, double ours, double baseline) =>
        unit == BenchUnit.MsPerStep ? baseline / ours : ours / baseline;
}
