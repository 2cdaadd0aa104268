using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Progressive;

/// <summary>
/// Progressive distillation's regression target and loss. From x_a at σa the teacher takes two Euler steps,
/// σa → σb → σc (x0 estimates optionally thresholded, the step continuing from the thresholded x0); the target is
/// the x0 for which ONE student Euler step from x_a lands on the teacher's x_c (<see cref="F.PdTarget"/>), and the
/// loss is max(1, 1/σa²)·‖D_S(x_a; σa) − SG(target)‖², summed over each sample and averaged over the batch.
/// </summary>
public static class ProgressiveTarget
{
    /// <summary>
    /// The target x0 and the weight max(1, 1/σa²) [N] for inputs <paramref name="xa"/> at per-sample levels
    /// <paramref name="sigmaA"/> &gt; <paramref name="sigmaB"/> &gt; <paramref name="sigmaC"/> ≥ 0 [N], with the
    /// teacher conditioned on <paramref name="labels"/> and its x0 estimates thresholded at quantile
    /// <paramref name="threshold"/> when given. No graph is recorded.
    /// </summary>
    public static (Tensor Target, Tensor Weight) Compute(FrozenTeacher teacher, Tensor xa, Tensor sigmaA, Tensor sigmaB, Tensor sigmaC,
        Tensor? labels = null, float? threshold = null)
    {
        using var noGrad = Tensor.NoGrad();
        var d1 = X0Threshold.Apply(teacher.Denoise(xa, sigmaA, labels), threshold);
        var xb = F.EulerStep(xa, d1, sigmaA, sigmaB);
        var d2 = X0Threshold.Apply(teacher.Denoise(xb, sigmaB, labels), threshold);
        var xc = F.EulerStep(xb, d2, sigmaB, sigmaC);
        return F.PdTarget(xa, xc, sigmaA, sigmaC);
    }

    /// <summary>
    /// The weighted loss mean_i weight_i·‖D_S(x_a; σa) − target_i‖² of <paramref name="student"/> (preconditioned by
    /// <paramref name="edm"/>), recorded for backward through the student only.
    /// </summary>
    public static Tensor Loss(INoiseNet student, Edm edm, Tensor xa, Tensor sigmaA, Tensor target, Tensor weight, Tensor? labels = null)
    {
        int n = xa.Shape[0];
        var shape = Enumerable.Repeat(1, xa.Rank).ToArray();
        shape[0] = n;
        var d = edm.Denoise(student, xa, sigmaA, labels);
        return F.MulScalar(F.Sum(F.Mul(F.Square(F.Sub(d, target)), F.Reshape(weight, shape))), 1f / n);
    }
}
