using DiffKernels.Diffusion.Models;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>The two denoisers' outputs at one noised generator sample, computed without a graph.</summary>
/// <param name="Noisy">x_s = SG(x_g) + σ·n.</param>
/// <param name="Real">D_T(x_s; σ), the teacher's (data) denoiser.</param>
/// <param name="Fake">D_φ(x_s; σ), the auxiliary (generator) denoiser.</param>
/// <remarks>Their difference D_φ − D_T = σ²·(s_fake − s_real), the direction that moves generator samples towards
/// the data, is <see cref="F.ScoreDifference"/>.</remarks>
public readonly record struct DenoiserPair(Tensor Noisy, Tensor Real, Tensor Fake);

/// <summary>
/// The real (teacher) and fake (auxiliary) denoisers that Diff-Instruct and DMD2 compare: noise generator samples,
/// ask the frozen teacher and the auxiliary denoiser for their x0 estimates, and train the auxiliary denoiser on
/// generator samples. Nothing here records a graph through the teacher or through the auxiliary network's evaluation.
/// </summary>
public static class RealFakeDenoisers
{
    /// <summary>
    /// x_s = SG(<paramref name="xg"/>) + σ·n with per-sample <paramref name="sigma"/> [N] and unit
    /// <paramref name="noise"/> shaped like x_g, then D_T(x_s; σ) and D_φ(x_s; σ) (the auxiliary network is
    /// preconditioned with the teacher's schedule), all under NoGrad.
    /// </summary>
    public static DenoiserPair Evaluate(FrozenTeacher teacher, INoiseNet auxiliary, Tensor xg, Tensor sigma, Tensor noise, Tensor? labels = null)
    {
        if (noise.Shape != xg.Shape) throw new ArgumentException($"RealFakeDenoisers: noise {noise.Shape} must match the generator samples {xg.Shape}");
        if (sigma.Shape != new Shape(xg.Shape[0])) throw new ArgumentException($"RealFakeDenoisers: sigma must be [{xg.Shape[0]}] for samples {xg.Shape}, got {sigma.Shape}");
        using var noGrad = Tensor.NoGrad();
        // The noising and both networks' preconditioned inputs are EDM's training inputs with x0 = x_g (the
        // regression target goes unused): one pass, shared by the two denoisers.
        float sd = (float)teacher.Edm.SigmaData;
        var (noisy, netIn, _, cNoise) = F.EdmTrainingInputs(xg, noise, sigma, sd);
        var real = F.EdmDenoise(noisy, teacher.Net.Forward(netIn, cNoise, labels), sigma, sd);
        var fake = F.EdmDenoise(noisy, auxiliary.Forward(netIn, cNoise, labels), sigma, sd);
        return new DenoiserPair(noisy, real, fake);
    }

    /// <summary>
    /// The auxiliary denoiser's EDM-weighted loss on generator samples treated as data (x0 = SG(x_g)): with it,
    /// D_φ tracks the generator's distribution so that its score is s_fake.
    /// </summary>
    public static Tensor AuxiliaryLoss(FrozenTeacher teacher, INoiseNet auxiliary, Tensor xg, Tensor sigma, Tensor noise, Tensor? labels = null)
    {
        Tensor x0;
        using (Tensor.NoGrad()) x0 = F.Copy(xg);
        return teacher.Edm.Loss(auxiliary, x0, sigma, noise, labels);
    }

    /// <summary>Mean over the batch of each sample's squared norm ‖t‖² (a sync point): a scalar to log.</summary>
    public static double MeanSquaredNorm(Tensor t)
    {
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        return F.Sum(F.Square(t)).Item() / t.Shape[0];
    }
}
