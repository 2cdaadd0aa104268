namespace DiffKernels.Diffusion.Training;

/// <summary>What the trainer reports after every step.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="Loss">This step's loss, computed before its update (possibly non-finite when the step was skipped).</param>
/// <param name="Lr">Learning rate used by this step.</param>
/// <param name="SamplesPerSecond">Training throughput over the current log interval.</param>
/// <param name="Elapsed">Wall-clock time of this session (not counting earlier sessions of a resumed run).</param>
/// <param name="Skipped">Steps skipped so far for non-finite values.</param>
public readonly record struct TrainProgress(long Step, long TotalSteps, float Loss, float Lr, double SamplesPerSecond, TimeSpan Elapsed, long Skipped)
{
    /// <summary>Estimated time to the end at the current throughput (zero when unknown).</summary>
    public TimeSpan Eta(int batchSize) => SamplesPerSecond > 0
        ? TimeSpan.FromSeconds((TotalSteps - Step) * (double)batchSize / SamplesPerSecond)
        : TimeSpan.Zero;
}
