namespace DiffKernels.Gpu.Checks;

/// <summary>The outcome of one op case on one backend.</summary>
/// <param name="Name">Case name.</param>
/// <param name="Family">Op family.</param>
/// <param name="Error">Largest normalised error over the case's outputs (NaN when it failed to run).</param>
/// <param name="Tolerance">The case's tolerance.</param>
/// <param name="Failure">Why it failed to run or to compare, or null.</param>
/// <param name="Elapsed">Wall time of the run on the backend under test.</param>
public sealed record OpResult(string Name, string Family, double Error, double Tolerance, string? Failure, TimeSpan Elapsed)
{
    /// <summary>True when the case ran and every output is within tolerance.</summary>
    public bool Passed => Failure == null && Error <= Tolerance;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: {(Passed ? "pass" : "FAIL")} error {Error:0.00e+00} (tolerance {Tolerance:0.0e+00}){(Failure != null ? $" — {Failure}" : "")}";
}
