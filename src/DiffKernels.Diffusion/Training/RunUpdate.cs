using System.Globalization;
using DiffKernels.Distributed;
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
    private readonly IProcessGroup _group;

    internal RunUpdate(float? clip, IProcessGroup? group = null)
    {
        _clip = clip;
        _group = group ?? SingleProcessGroup.Instance;
    }

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
    /// The mean of this rank's <paramref name="value"/> over the ranks of a data-parallel run (the value itself in one
    /// process): what a per-batch mean becomes over the whole batch, and the same on every rank, so every rank takes
    /// the same skip decision on it.
    /// </summary>
    public double Average(double value) => _group.Average(value);

    /// <summary>
    /// Backpropagates <paramref name="loss"/> (this rank's batch mean) and applies <paramref name="adam"/> when the
    /// loss, averaged over the ranks, is finite; returns that loss and whether the update was applied.
    /// </summary>
    public (double Loss, bool Applied) Minimise(string? update, Tensor loss, Adam adam)
    {
        double value = Average(loss.Item());
        if (!Finite(update, "loss", value)) return (value, false);
        loss.Backward();
        return (value, Apply(adam, update));
    }

    /// <summary>
    /// Averages <paramref name="adam"/>'s accumulated gradients over the ranks, then clips and applies them; false
    /// (recorded) when their norm is not finite. Every rank sees the same averaged gradients and so decides alike.
    /// </summary>
    public bool Apply(Adam adam, string? update = null)
    {
        _group.AverageGradients(adam.Parameters);
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
