namespace DiffKernels.Diffusion.Training;

/// <summary>What <see cref="GanTrainer"/> reports after every iteration.</summary>
/// <param name="Step">Iterations completed.</param>
/// <param name="TotalSteps">Iterations of the whole run.</param>
/// <param name="DiscriminatorLoss">This iteration's softplus(−D(x)) + softplus(D(G(z))), batch means (non-finite when skipped).</param>
/// <param name="GeneratorLoss">This iteration's softplus(−D(G(z))), batch mean (non-finite when skipped).</param>
/// <param name="SamplesPerSecond">Real images per second over the current log interval.</param>
/// <param name="Elapsed">Wall-clock time of this session.</param>
/// <param name="Skipped">Updates skipped so far for non-finite values.</param>
public readonly record struct GanProgress(long Step, long TotalSteps, double DiscriminatorLoss, double GeneratorLoss, double SamplesPerSecond, TimeSpan Elapsed, long Skipped)
{
    /// <summary>Estimated time to the end at the current throughput (zero when unknown).</summary>
    public TimeSpan Eta(int batchSize) => SamplesPerSecond > 0
        ? TimeSpan.FromSeconds((TotalSteps - Step) * (double)batchSize / SamplesPerSecond)
        : TimeSpan.Zero;
}
