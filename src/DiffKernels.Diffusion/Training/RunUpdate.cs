using System.Globalization;
using DiffKernels.Distributed;
using DiffKernels.Ops;
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
    private readonly (Ema Ema, float Beta)? _ema;

    /// <summary>
    /// An iteration's update policy; with <paramref name="ema"/>, the run's EMA and this iteration's β, which an
    /// optimiser over exactly the EMA's parameters then moves in its own step (see <see cref="EmaUpdated"/>).
    /// </summary>
    internal RunUpdate(float? clip, IProcessGroup? group = null, (Ema Ema, float Beta)? ema = null)
    {
        _clip = clip;
        _group = group ?? SingleProcessGroup.Instance;
        _ema = ema;
    }

    /// <summary>
    /// True once an applied update also moved the EMA (its optimiser steps over the arena the EMA follows): the run's
    /// EMA update that follows that update must then not move it again.
    /// </summary>
    internal bool EmaUpdated { get; private set; }

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
    /// Replaces each of <paramref name="values"/> by its sum over the ranks (leaves them in one process): for what a
    /// batch statistic needs besides a mean, e.g. per-bin sums and counts, or rows gathered into a zeroed buffer.
    /// </summary>
    public void Sum(Span<float> values) => _group.AllReduceSum(values);

    /// <summary>
    /// The whole batch of a per-row tensor of which this rank holds <paramref name="shard"/>'s rows: the other ranks'
    /// rows as constants (summed into a zeroed buffer, which is exact), this rank's as given, recorded; the tensor itself
    /// in one process. For a batch-level term that couples rows (SADM's affinities), with <see cref="WholeBatchTerm"/>.
    /// </summary>
    public Tensor Gather(Tensor rows, BatchShard shard)
    {
        if (shard.Whole) return rows;
        if (rows.Shape[0] != shard.Count) throw new ArgumentException($"RunUpdate.Gather: {rows.Shape[0]} rows for a shard of {shard.Count}");
        long perRow = rows.Numel / shard.Count;
        var all = new float[shard.BatchSize * perRow];
        rows.Backend.Download(rows.Storage, 0, all.AsSpan((int)(shard.Start * perRow), (int)rows.Numel));
        Sum(all);
        var whole = Tensor.FromSpan(all, [shard.BatchSize, .. rows.Shape.ToArray()[1..]], rows.Device);
        var parts = new List<Tensor>();
        if (shard.Start > 0) parts.Add(F.Narrow(whole, 0, 0, shard.Start));
        parts.Add(rows);
        int end = shard.Start + shard.Count;
        if (end < shard.BatchSize) parts.Add(F.Narrow(whole, 0, end, shard.BatchSize - end));
        return F.Concat(parts, 0);
    }

    /// <summary>
    /// A loss term every rank computes alike over the whole batch, its own rows recorded (<see cref="Gather"/>): the same
    /// value, with its gradient multiplied by the number of ranks, so that averaging the ranks' gradients adds up their
    /// rows' shares into the whole batch's gradient. The term itself in one process.
    /// </summary>
    public Tensor WholeBatchTerm(Tensor term) =>
        _group.WorldSize == 1 ? term : F.Add(term, F.MulScalar(F.Sub(term, term.Detach()), _group.WorldSize - 1));

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
    /// When the optimiser can step in one pass over its arena (the common case), the average, the norm and the step
    /// are one backend call each, the clipping scale is applied inside the step, and the run's EMA, when it averages
    /// exactly these parameters, moves in the same pass; the values are those of the per-tensor path.
    /// </summary>
    public bool Apply(Adam adam, string? update = null)
    {
        if (adam.Arena is { IsDisposed: false } arena)
        {
            // Another rank may have the gradients this one lacks: all of them take part in the reduction.
            if (_group.WorldSize > 1) arena.ZeroMissingGradients();
            if (adam.CanStepInOnePass) return ApplyInOnePass(adam, arena, update);
        }
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

    /// <summary>
    /// The update after a replayed forward and backward (<see cref="ReplayedLoss"/>), whose gradients are already in
    /// <paramref name="adam"/>'s arena: the loss and the gradient norm are read in one wait, then the same policy as
    /// <see cref="Minimise"/> applies (a non-finite loss skips the update, recorded as such). One process only.
    /// </summary>
    internal (double Loss, bool Applied) MinimiseReplayed(string? update, Tensor loss, Adam adam)
    {
        if (_group.WorldSize != 1) throw new InvalidOperationException("RunUpdate.MinimiseReplayed: a replayed step runs in one process");
        var arena = adam.Arena is { IsDisposed: false } a && adam.CanStepInOnePass
            ? a
            : throw new InvalidOperationException("RunUpdate.MinimiseReplayed: the optimiser must step its whole arena in one pass");
        var (value, norm) = arena.ReadWithGradientNorm(loss);
        if (!Finite(update, "loss", value)) return (value, false);
        return (value, ApplyInOnePass(adam, arena, update, norm));
    }

    private bool ApplyInOnePass(Adam adam, ParameterArena arena, string? update)
    {
        _group.AverageGradients(arena);
        return ApplyInOnePass(adam, arena, update, arena.GradientNorm());
    }

    private bool ApplyInOnePass(Adam adam, ParameterArena arena, string? update, float norm)
    {
        if (!float.IsFinite(norm))
        {
            _problems.Add(Problem(update, $"non-finite gradient norm ({norm.ToString(CultureInfo.InvariantCulture)})"));
            return false;
        }
        // GradClip's rule: scale by max/norm only above the maximum.
        float scale = _clip is { } clip && norm > clip ? clip / norm : 1f;
        if (_ema is var (ema, beta) && ema.TryFollow(arena))
        {
            // The EMA moves once per iteration, after the sampled network's update: a second one would leave it behind.
            if (EmaUpdated) throw new InvalidOperationException("RunUpdate.Apply: the sampled network's optimiser was applied twice in one iteration");
            adam.StepInOnePass(scale, ema, beta);
            EmaUpdated = true;
        }
        else
        {
            adam.StepInOnePass(scale);
        }
        return true;
    }

    private static string Problem(string? update, string problem) => update == null ? problem : $"{update}: {problem}";
}
