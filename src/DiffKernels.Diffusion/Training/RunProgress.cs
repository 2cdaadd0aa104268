namespace DiffKernels.Diffusion.Training;

/// <summary>What a run reports after every iteration: the iteration's named values (those its log lines average) and throughput.</summary>
/// <param name="Step">Iterations completed.</param>
/// <param name="TotalSteps">Iterations of the whole run.</param>
/// <param name="BatchSize">Samples per iteration.</param>
/// <param name="Names">The values' names, as in the log ("loss"; "d_loss", "g_loss"; "aux_loss", "score_gap").</param>
/// <param name="Values">This iteration's values (non-finite where the update was skipped).</param>
/// <param name="SamplesPerSecond">Throughput over the current log interval.</param>
/// <param name="Elapsed">Wall-clock time of this session (not counting earlier sessions of a resumed run).</param>
/// <param name="Skipped">Updates skipped so far for non-finite values.</param>
public readonly record struct RunProgress(long Step, long TotalSteps, int BatchSize, IReadOnlyList<string> Names, IReadOnlyList<double> Values,
    double SamplesPerSecond, TimeSpan Elapsed, long Skipped)
{
    /// <summary>The value named <paramref name="name"/>.</summary>
    public double this[string name]
    {
        get
        {
            for (int i = 0; i < Names.Count; i++)
                if (Names[i] == name) return Values[i];
            throw new KeyNotFoundException($"RunProgress: no value '{name}' (the run reports {string.Join(", ", Names)})");
        }
    }

    /// <summary>Estimated time to the end at the current throughput (zero when unknown).</summary>
    public TimeSpan Eta() => SamplesPerSecond > 0
        ? TimeSpan.FromSeconds((TotalSteps - Step) * (double)BatchSize / SamplesPerSecond)
        : TimeSpan.Zero;
}
