namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>What a distiller reports after every iteration.</summary>
/// <param name="Step">Iterations completed.</param>
/// <param name="TotalSteps">Iterations of the whole run.</param>
/// <param name="AuxiliaryLoss">This iteration's EDM loss of the auxiliary (fake) denoiser on generator samples.</param>
/// <param name="ScoreGap">This iteration's mean ‖D_φ − D_T‖² per sample at the generator step: how far the generator's diffused marginals are from the teacher's, as the two denoisers see it.</param>
/// <param name="SamplesPerSecond">Generator samples per second over the current log interval.</param>
/// <param name="Elapsed">Wall-clock time of this session.</param>
/// <param name="Skipped">Updates skipped so far for non-finite values.</param>
public readonly record struct DistillProgress(long Step, long TotalSteps, double AuxiliaryLoss, double ScoreGap, double SamplesPerSecond, TimeSpan Elapsed, long Skipped)
{
    /// <summary>Estimated time to the end at the current throughput (zero when unknown).</summary>
    public TimeSpan Eta(int batchSize) => SamplesPerSecond > 0
        ? TimeSpan.FromSeconds((TotalSteps - Step) * (double)batchSize / SamplesPerSecond)
        : TimeSpan.Zero;
}
