using DiffKernels.Diffusion.Models;

namespace DiffKernels.Diffusion.Training;

// The resume skeleton every kind's Resume fills in: open and check the checkpoint, build the run, load its parts.
public abstract partial class TrainingRun<TOptions>
{
    /// <summary>
    /// Opens <paramref name="checkpoint"/> to continue a <paramref name="kind"/> run (written by <paramref name="method"/>
    /// when given, else by EDM training) for <paramref name="purpose"/> (e.g. "dk train --resume"): a release checkpoint
    /// or another run's is refused in one line; returns its options, with <paramref name="steps"/> as the new total and
    /// what <paramref name="changes"/> alters where the options allow it on resume.
    /// </summary>
    protected static (CheckpointReader Checkpoint, TOptions Options) OpenForResume(string checkpoint, string kind, string purpose, string? method,
        Func<string, TOptions> parse, int? steps, Func<TOptions, TOptions>? changes)
    {
        CheckpointKind.RequireTraining(checkpoint, purpose, method ?? CheckpointKind.EdmMethod);
        var reader = CheckpointReader.Open(checkpoint, kind);
        if (method != null && reader.Meta(CheckpointKeys.Method) != method)
            throw new ArgumentException($"{checkpoint}: written by '{reader.Meta(CheckpointKeys.Method)}', not by {method}");
        var options = parse(reader.Meta(CheckpointKeys.Options));
        if (steps is { } s) options = (TOptions)((RunOptions)options with { Steps = s });
        if (changes != null)
        {
            var changed = changes(options);
            if (!changed.Equals(options.WithResumable(changed)))
                throw new ArgumentException($"{checkpoint}: on resume only {options.Resumable} may change");
            changed.Validate();
            options = changed;
        }
        long step = reader.Count(CheckpointKeys.Step);
        if (step > options.Steps)
            throw new ArgumentException($"{checkpoint}: the run is already at step {step}, beyond the requested {options.Steps} steps");
        return (reader, options);
    }

    /// <summary>
    /// Loads every part of <paramref name="run"/>'s state from <paramref name="checkpoint"/>; on failure releases it
    /// with <paramref name="release"/> (default: disposes it) and rethrows.
    /// </summary>
    protected static TRun Restore<TRun>(TRun run, CheckpointReader checkpoint, Action<TRun>? release = null) where TRun : TrainingRun<TOptions>
    {
        try
        {
            run.State.Load(checkpoint, run.Device);
            return run;
        }
        catch
        {
            if (release != null) release(run);
            else run.Dispose();
            throw;
        }
    }
}
