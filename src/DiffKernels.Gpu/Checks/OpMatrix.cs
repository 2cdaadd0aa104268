using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

/// <summary>
/// The op matrix: every backend op, forward and backward, on small shapes that still cross the
/// kernels' tile edges, broadcasting and odd sizes. Shared by the tests (on ILGPU's CPU emulator)
/// and by `dk check-ops` (on any accelerator). Tolerances are normalised MSE: 0 where the contract
/// demands bit-identical results (copies, Philox uniform), 1e-10 (relative RMS 1e-5) for arithmetic
/// whose float rounding depends on the order of summation, looser only where stated.
/// </summary>
public static partial class OpMatrix
{
    /// <summary>Tolerance of ordinary float arithmetic (rounding and summation order only).</summary>
    public const double Float = 1e-10;

    /// <summary>Every case, by family.</summary>
    public static IReadOnlyList<OpCase> All { get; } =
    [
        .. Memory(), .. Elementwise(), .. Reductions(), .. Products(), .. TensorProducts(), .. Convolutions(), .. AttentionCases(),
        .. Norms(), .. Pooling(), .. RandomCases(), .. Optimisers(), .. Losses(), .. Schedule(), .. Models(),
    ];

    /// <summary>The case named <paramref name="name"/>.</summary>
    public static OpCase Find(string name) =>
        All.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"op matrix: no case named '{name}'");

    private static OpCase Case(string family, string name, Func<OpInputs, IReadOnlyList<Tensor>> run, double tolerance = Float) =>
        new(name, family, tolerance, run);
}
