using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Distributed;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A run of any kind (teacher training, GAN training, distillation), as <see cref="RunLoop"/> and front ends drive
/// it: it counts its own steps and skipped updates, saves itself, and runs with progress and cancellation.
/// </summary>
public interface ITrainingRun : IDisposable
{
    /// <summary>The output directory (checkpoint, log, previews), or null for a run that writes nothing.</summary>
    string? OutDir { get; }

    /// <summary>Iterations completed.</summary>
    long Step { get; }

    /// <summary>Iterations of the whole run.</summary>
    long TotalSteps { get; }

    /// <summary>Samples per iteration.</summary>
    int BatchSize { get; }

    /// <summary>Updates skipped for non-finite values.</summary>
    long Skipped { get; }

    /// <summary>Where <see cref="OutDir"/>'s checkpoint lives, or null without one.</summary>
    string? CheckpointPath { get; }

    /// <summary>Called with each warning (a skipped update), besides the log.</summary>
    Action<string>? OnWarning { get; set; }

    /// <summary>
    /// Makes the run data-parallel over <paramref name="group"/> (before <see cref="Run"/>): the batch is split over
    /// its ranks, which must divide it. Every run kind splits its iteration; with several ranks the run logs the time
    /// spent in the group's collectives as <c>allreduce_ms</c>.
    /// </summary>
    void Distribute(IProcessGroup group);

    /// <summary>Writes the full run state to <paramref name="path"/> atomically.</summary>
    void SaveCheckpoint(string path);

    /// <summary>Writes a sample grid or scatter plot of the current EMA weights to <paramref name="path"/>.</summary>
    void WritePreview(string path);

    /// <summary>The quality curve the run measures (null: none).</summary>
    QualityCurveOptions? QualityCurve { get; }

    /// <summary>
    /// What measures the quality curve: to be set before <see cref="Run"/> when the run has a curve and an
    /// <see cref="OutDir"/> (the run does not own it).
    /// </summary>
    QualityProbe? Probe { get; set; }

    /// <summary>
    /// The network the run would release now, as `dk sample` and `dk eval` would load its checkpoint: the EMA weights
    /// (copied: training does not see it) with the metadata a checkpoint would record (σ_data, sampler defaults,
    /// crop, data). The caller disposes it.
    /// </summary>
    PretrainedModel Release();

    /// <summary>
    /// Runs to <see cref="TotalSteps"/>, reporting every iteration. Cancellation is checked before each iteration:
    /// the run then saves a checkpoint and returns with Interrupted set. Throws
    /// <see cref="TrainingDivergedException"/> after too many iterations in a row with a skipped update.
    /// </summary>
    TrainResult Run(CancellationToken cancel = default, Action<RunProgress>? progress = null);
}
