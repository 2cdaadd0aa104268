namespace DiffKernels.Diffusion.Training;

/// <summary>How a training run ended.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="Interrupted">True when cancelled before the last step (a checkpoint was saved).</param>
/// <param name="CheckpointPath">The last checkpoint written, or null when the trainer has no output directory.</param>
/// <param name="Skipped">Steps skipped for non-finite values.</param>
public sealed record TrainResult(long Step, bool Interrupted, string? CheckpointPath, long Skipped);
