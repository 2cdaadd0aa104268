using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>
/// How far a BOOT student's signal is from the teacher's actual ODE trajectory: from x(σmax) = σmax·ε the teacher's
/// probability-flow ODE is solved with Heun steps (EDM Algorithm 2) through the grid levels, and at each level
/// y_T(σ) = x_T(σ) − σ·ε is compared with the student's y(σ) for the same ε.
/// </summary>
public static class BootTrajectoryGap
{
    /// <summary>
    /// Mean over <paramref name="n"/> noises of Generator(<paramref name="seed"/>) and over each sample's elements of
    /// (y(σ) − y_T(σ))², one value per level of <paramref name="levels"/> (decreasing, σmax first). Conditional models
    /// get labels i mod classes and the teacher's guidance <paramref name="guidance"/>. Runs under NoGrad.
    /// </summary>
    public static double[] Measure(BootStudent student, FrozenTeacher teacher, IReadOnlyList<double> levels, int n, ulong seed, double guidance = 1, Device? device = null)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"BootTrajectoryGap: sample count {n} must be ≥ 1");
        if (levels.Count < 1) throw new ArgumentException("BootTrajectoryGap: no levels");
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var eps = new Generator(seed).Normal([n, .. student.LatentShape], device);
        var labels = student.NumClasses == 0 ? null
            : Tensor.FromSpan(Enumerable.Range(0, n).Select(i => (float)(i % student.NumClasses)).ToArray(), [n], device);
        Tensor Denoise(Tensor x, double sigma) => teacher.Denoise(x, Tensor.Full([n], (float)sigma, device), labels, guidance);
        var gaps = new double[levels.Count];
        var x = F.MulScalar(eps, (float)levels[0]);
        for (int i = 0; i < levels.Count; i++)
        {
            // One scope per level: only x crosses levels, so the networks' activations do not pile up over the grid.
            using var level = Tensor.Scope();
            double sigma = levels[i];
            if (i > 0)
            {
                double from = levels[i - 1], h = sigma - from;
                var d = F.MulScalar(F.Sub(x, Denoise(x, from)), (float)(1 / from));
                var euler = F.Add(x, F.MulScalar(d, (float)h));
                var d2 = F.MulScalar(F.Sub(euler, Denoise(euler, sigma)), (float)(1 / sigma));
                var next = F.Add(x, F.MulScalar(F.Add(d, d2), (float)(h / 2))).Keep();
                x.Dispose();
                x = next;
            }
            var teacherSignal = F.Sub(x, F.MulScalar(eps, (float)sigma));
            gaps[i] = F.Mean(F.Square(F.Sub(student.Signal(eps, sigma, labels), teacherSignal))).Item();
        }
        return gaps;
    }
}
