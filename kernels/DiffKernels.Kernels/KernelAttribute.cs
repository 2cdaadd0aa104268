namespace DiffKernels.Kernels;

/// <summary>
/// Marks a kernel entry point. Explicitly grouped kernels (shared memory, barriers, warp shuffles)
/// take a KernelConfig at launch; the others are auto-grouped over an Index1D. The marker lets the
/// compile checks find every entry point, so each one is proven to translate to PTX even where no
/// GPU is present.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class KernelAttribute(bool grouped = false) : Attribute
{
    /// <summary>True for explicitly grouped kernels.</summary>
    public bool Grouped { get; } = grouped;
}
