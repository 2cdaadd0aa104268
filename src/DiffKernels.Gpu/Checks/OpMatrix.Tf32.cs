using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    /// <summary>The family of the cases that run the matrix products on tensor cores (TF32 and 3×TF32).</summary>
    public const string TensorFamily = "gemm-tf32";

    /// <summary>
    /// Tolerance of the TF32 products against the FP32 CPU reference. Rounding both operands to 10 mantissa bits
    /// gives each product a relative error δ with E[δ²] ≈ 2⁻²²/3 ≈ 8·10⁻⁸ (each operand's error is uniform within
    /// ±half an ulp of 2⁻¹⁰ relative); over a dot product of k terms of either sign the error and the result both
    /// grow as √k, so the normalised squared error stays near 8·10⁻⁸ whatever k. 10⁻⁶ (relative RMS 10⁻³ ≈ 2⁻¹⁰)
    /// leaves a factor of 12, while one wrong element in a few thousand still moves the error to 10⁻³.
    /// </summary>
    public const double Tf32 = 1e-6;

    /// <summary>
    /// The products at TF32 (tolerance <see cref="Tf32"/>) and 3×TF32 (the FP32 tolerance: the split leaves out
    /// 2⁻²² relative per product), forward and gradients, on shapes off the tile edges, all transposes,
    /// batches, split-K and both tile shapes. Each case switches its GPU backend's <see cref="GpuBackend.MatmulPrecision"/>
    /// for its own launches only; the CPU reference is FP32.
    /// </summary>
    private static IEnumerable<OpCase> TensorProducts()
    {
        foreach (var precision in new[] { MatmulPrecision.Tf32, MatmulPrecision.Tf32x3 })
        {
            string p = MatmulPrecisions.Name(precision);
            double tolerance = precision == MatmulPrecision.Tf32 ? Tf32 : Float;
            OpCase At(string name, Func<OpInputs, IReadOnlyList<Tensor>> run) => Case(TensorFamily, $"{p} {name}", c => WithPrecision(c.Device, precision, () => run(c)), tolerance);
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                yield return At($"matmul {(ta ? "T" : "N")}{(tb ? "T" : "N")} 37x19x21", c =>
                {
                    var a = ta ? c.Param(19, 37) : c.Param(37, 19);
                    var b = tb ? c.Param(21, 19) : c.Param(19, 21);
                    return c.WithGrads(F.Matmul(a, b, ta, tb), a, b);
                });
            yield return At("matmul batched 3x17x9x13", c =>
            {
                var a = c.Param(3, 17, 9);
                var b = c.Param(3, 9, 13);
                return c.WithGrads(F.Matmul(a, b), a, b);
            });
            yield return At("matmul split-K 10x200x12", c =>
            {
                var a = c.Param(10, 200);
                var b = c.Param(200, 12);
                return c.WithGrads(F.Matmul(a, b), a, b);
            });
            yield return At("matmul GPU-sized 130x70x150", c =>
            {
                // Interior tiles and edges of both tile shapes (the forward takes 128 × 128 tiles on the emulator).
                var a = c.Param(130, 70);
                var b = c.Param(70, 150);
                return c.WithGrads(F.Matmul(a, b), a, b);
            });
            yield return At("linear with bias", c =>
            {
                var x = c.Param(2, 7, 24);
                var w = c.Param(20, 24);
                var b = c.Param(20);
                return c.WithGrads(F.Linear(x, w, b), x, w, b);
            });
        }
    }

    /// <summary>Runs <paramref name="run"/> with the matrix products of <paramref name="device"/>'s GPU backend at <paramref name="precision"/> (a CPU device runs it as it is).</summary>
    private static IReadOnlyList<Tensor> WithPrecision(Device device, MatmulPrecision precision, Func<IReadOnlyList<Tensor>> run)
    {
        if (device.Backend is not GpuBackend gpu) return run();
        var before = gpu.MatmulPrecision;
        gpu.MatmulPrecision = precision;
        try
        {
            // Kernels are chosen as they are queued, so every product of the case is queued by the time run returns.
            return run();
        }
        finally
        {
            gpu.MatmulPrecision = before;
        }
    }
}
