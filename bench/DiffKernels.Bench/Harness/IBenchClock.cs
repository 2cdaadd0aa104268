using System.Diagnostics;

namespace DiffKernels.Bench.Harness;

/// <summary>A monotonic clock in seconds; tests substitute a scripted one to check the statistics.</summary>
public interface IBenchClock
{
    /// <summary>The current time in seconds from an arbitrary origin.</summary>
    double Now { get; }
}

/// <summary>The high-resolution <see cref="Stopwatch"/> clock.</summary>
public sealed class StopwatchClock : IBenchClock
{
    /// <summary>The shared instance.</summary>
    public static StopwatchClock Instance { get; } = new();

    /// <inheritdoc/>
    public double Now => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
}
