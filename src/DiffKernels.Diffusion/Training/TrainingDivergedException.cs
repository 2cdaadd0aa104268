namespace DiffKernels.Diffusion.Training;

/// <summary>Training stopped because too many consecutive steps had a non-finite loss or gradient.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
