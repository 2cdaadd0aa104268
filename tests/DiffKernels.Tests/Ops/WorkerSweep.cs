using DiffKernels.Backends.Cpu;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Ops;

/// <summary>
/// Runs an op forward and backward on inputs large enough for the CPU kernels to split their work,
/// under different worker counts: the results must agree bit for bit, which catches races and any
/// dependence of a reduction's order on how the work was split.
/// </summary>
internal static class WorkerSweep
{
    public static void AssertIndependentOfWorkers(Shape[] shapes, Func<Tensor[], Tensor> op)
    {
        var serial = Run(1, shapes, op);
        var wide = Run(8, shapes, op);
        for (int i = 0; i < serial.Length; i++)
            Assert.That(wide[i], Is.EqualTo(serial[i]), i == 0 ? "output" : $"gradient of input {i - 1}");
    }

    /// <summary>[output, gradient of each input] for fixed random inputs and a fixed random dy.</summary>
    private static float[][] Run(int workers, Shape[] shapes, Func<Tensor[], Tensor> op)
    {
        int saved = CpuParallel.Workers;
        CpuParallel.Workers = workers;
        try
        {
            using var scope = Tensor.Scope();
            var rng = new System.Random(99);
            var xs = shapes.Select(s => Tensor.FromSpan(Random(rng, s.Numel), s).RequireGrad()).ToArray();
            var y = op(xs);
            y.Backward(Tensor.FromSpan(Random(rng, y.Numel), y.Shape));
            return [y.ToArray(), .. xs.Select(x => x.Grad!.ToArray())];
        }
        finally
        {
            CpuParallel.Workers = saved;
        }
    }

    private static float[] Random(System.Random rng, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}
