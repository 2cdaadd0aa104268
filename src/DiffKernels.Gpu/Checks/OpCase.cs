namespace DiffKernels.Gpu.Checks;

/// <summary>
/// One entry of the op matrix: a small computation through the public API (forward and, where
/// differentiable, the gradients of its inputs) whose outputs are compared between a backend under
/// test and the CPU reference.
/// </summary>
/// <param name="Name">Unique case name, e.g. "conv2d 3x3 s2 p1".</param>
/// <param name="Family">Op family (elementwise, gemm, conv, attention, ...).</param>
/// <param name="Tolerance">Largest normalised error accepted (see <see cref="OpMatrixRunner.NormalisedError"/>); 0 demands bit-identical results.</param>
/// <param name="Run">Builds the inputs on the given context's device and returns the tensors to compare.</param>
public sealed record OpCase(string Name, string Family, double Tolerance, Func<OpInputs, IReadOnlyList<Tensors.Tensor>> Run)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}
