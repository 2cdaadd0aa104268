using System.Globalization;
using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// The update policy of one iteration, shared by every run kind: a non-finite loss or gradient norm skips that
/// update and is recorded as a problem ("generator: non-finite loss (NaN)"); a finite one is clipped (when the run
/// clips) and applied. The run then counts, logs and, past its limit, stops on what was recorded.
/// </summary>
public sealed class RunUpdate
{
    private readonly List<string> _problems = [];
    private readonly float? _clip;

    internal RunUpdate(float? clip) => _clip = clip;

    /// <summary>Why updates of this iteration were skipped, in order.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>True when an update of this iteration was skipped.</summary>
    public bool Skipped => _problems.Count > 0;

    /// <summary>
    /// True when <paramref name="value"/> is finite; otherwise records that <paramref name="update"/> (null for a
    /// run with one update) saw a non-finite <paramref name="quantity"/>.
    /// </summary>
    public bool Finite(string? update, string quantity, double value)
    {
        if (double.IsFinite(value)) return true;
        _problems.Add(Problem(update, $"non-finite {quantity} ({value.ToString(CultureInfo.InvariantCulture)})"));
        return false;
    }

    /// <summary>
    /// Backpropagates <paramref name="loss"/> and applies <paramref name="adam"/> when the loss is finite; returns the
    /// loss and whether the update was applied.
    /// </summary>
    public (double Loss, bool Applied) Minimise(string? update, Tensor loss, Adam adam)
    {
        double value = loss.Item();
        if (!Finite(update, "loss", value)) return (value, false);
        loss.Backward();
        return (value, Apply(adam, update));
    }

    /// <summary>Clips and applies <paramref name="adam"/>'s accumulated gradients; false (recorded) when their norm is not finite.</summary>
    public bool Apply(Adam adam, string? update = null)
    {
        float norm = _clip is { } clip ? GradClip.ClipGlobalNorm(adam.Parameters, clip) : GradClip.GlobalNorm(adam.Parameters);
        if (!float.IsFinite(norm))
        {
            _problems.Add(Problem(update, $"non-finite gradient norm ({norm.ToString(CultureInfo.InvariantCulture)})"));
            return false;
        }
        adam.Step();
        return true;
    }

    private static string Problem(string? update, string problem) => update == null ? problem : $"{update}: {problem}";
}
