namespace DiffKernels.Diffusion.Training;

/// <summary>A run that <see cref="RunLoop"/> drives: it counts its own steps and skipped updates and saves itself.</summary>
public interface ILoopedRun
{
    /// <summary>The output directory (checkpoint, log, previews), or null for a run that writes nothing.</summary>
    string? OutDir { get; }

    /// <summary>Iterations completed.</summary>
    long Step { get; }

    /// <summary>Updates skipped for non-finite values.</summary>
    long Skipped { get; }

    /// <summary>Where <see cref="OutDir"/>'s checkpoint lives, or null without one.</summary>
    string? CheckpointPath { get; }

    /// <summary>Writes the full run state to <paramref name="path"/> atomically.</summary>
    void SaveCheckpoint(string path);

    /// <summary>Writes a sample grid or scatter plot of the current model to <paramref name="path"/>.</summary>
    void WritePreview(string path);
}
