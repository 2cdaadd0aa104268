using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>What a front end needs to drive any distiller: run it with progress and cancellation.</summary>
public interface IDistiller : IDisposable
{
    /// <summary>Iterations completed.</summary>
    long Step { get; }

    /// <summary>Iterations of the whole run.</summary>
    long TotalSteps { get; }

    /// <summary>Generator samples per iteration.</summary>
    int BatchSize { get; }

    /// <summary>Called with each warning (a skipped update), besides the log.</summary>
    Action<string>? OnWarning { get; set; }

    /// <summary>
    /// Runs to <see cref="TotalSteps"/>, reporting every iteration. Cancellation is checked before each iteration:
    /// the run then saves a checkpoint and returns with Interrupted set.
    /// </summary>
    TrainResult Run(CancellationToken cancel = default, Action<DistillProgress>? progress = null);
}
