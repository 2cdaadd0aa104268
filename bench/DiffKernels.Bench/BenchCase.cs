using DiffKernels.Backends;

namespace DiffKernels.Bench;

/// <summary>
/// A named benchmark: a fixed problem, how much work one run does (FLOPs or bytes, see
/// <see cref="Unit"/>), and a factory that sets the problem up on a backend.
/// </summary>
/// <param name="Name">Unique name used on the command line and in results, e.g. "gemm-1024".</param>
/// <param name="Group">Family of cases ("gemm", "conv2d", ...); naming it selects them all.</param>
/// <param name="Description">The problem in words, with its shapes.</param>
/// <param name="Unit">What the figures measure.</param>
/// <param name="Work">FLOPs, bytes or images of one run (ignored for <see cref="BenchUnit.MsPerStep"/>).</param>
/// <param name="Create">Allocates inputs on a backend and returns the runnable problem.</param>
/// <param name="TorchTarget">
/// The speed ratio against PyTorch this case is to reach (ours/PyTorch, e.g. 1.5), which `--vs-torch` judges by the median
/// over its rounds; null where the case has no such target.
/// </param>
/// <param name="Tiny">
/// The same case at a shape small enough for the GPU emulator (<c>dk bench --tiny</c>), to rehearse a GPU run's whole
/// sequence where there is no GPU; null where the case has none. Its figures say nothing about speed.
/// </param>
public sealed record BenchCase(string Name, string Group, string Description, BenchUnit Unit, double Work, Func<IBackend, CaseRun> Create,
    double? TorchTarget = null, BenchCase? Tiny = null);

/// <summary>One set-up problem: ours on the chosen backend, and a baseline on its own copy of the inputs.</summary>
public abstract class CaseRun : IDisposable
{
    /// <summary>One run of our kernel(s), complete (synchronised) when it returns.</summary>
    public abstract void Ours();

    /// <summary>The in-process baseline for the same problem.</summary>
    public virtual Baseline Baseline => Baseline.None("no in-process baseline for this case");

    /// <summary>Releases what the problem allocated.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases buffers; called once by <see cref="Dispose"/>.</summary>
    protected virtual void Release() { }
}

/// <summary>A baseline implementation, or why there is none.</summary>
/// <param name="Name">What it is, e.g. "openblas".</param>
/// <param name="Run">One run, or null when unavailable.</param>
/// <param name="Missing">Why it is unavailable (null when it runs).</param>
public sealed record Baseline(string Name, Action? Run, string? Missing)
{
    /// <summary>A baseline that runs.</summary>
    public static Baseline Of(string name, Action run) => new(name, run, null);

    /// <summary>No baseline, with the reason.</summary>
    public static Baseline None(string reason, string name = "") => new(name, null, reason);
}
