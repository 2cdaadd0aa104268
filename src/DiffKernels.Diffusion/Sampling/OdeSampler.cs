using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// Integrates the probability-flow ODE dx/dσ = (x − D(x; σ))/σ down a σ grid that ends in 0. Every
/// step runs under NoGrad inside its own tensor scope, so memory does not grow with the number of
/// steps; only the current x survives a step.
/// </summary>
public static class OdeSampler
{
    /// <summary>
    /// Euler (= DDIM in σ-space): x_b = D_a + (σb/σa)·(x_a − D_a). Starts from <paramref name="x"/>
    /// (already scaled to σ₀; not disposed). Returns the final x and adds one evaluation per step to <paramref name="nfe"/>.
    /// </summary>
    public static Tensor Euler(Denoiser denoise, Tensor x, IReadOnlyList<double> sigmas, ref int nfe)
    {
        CheckGrid(sigmas);
        using var noGrad = Tensor.NoGrad();
        var current = x;
        for (int i = 0; i + 1 < sigmas.Count; i++)
        {
            double a = sigmas[i], b = sigmas[i + 1];
            Tensor next;
            using (Tensor.Scope())
            {
                next = F.EulerStep(current, denoise(current, a), (float)(b / a)).Keep();
            }
            nfe++;
            if (!ReferenceEquals(current, x)) current.Dispose();
            current = next;
        }
        return current;
    }

    /// <summary>
    /// EDM Algorithm 2 (deterministic Heun): an Euler step to σ_{i+1}, corrected with the slope there
    /// unless σ_{i+1} = 0. A grid of N levels costs 2N − 1 evaluations, added to <paramref name="nfe"/>.
    /// </summary>
    public static Tensor Heun(Denoiser denoise, Tensor x, IReadOnlyList<double> sigmas, ref int nfe)
    {
        CheckGrid(sigmas);
        using var noGrad = Tensor.NoGrad();
        var current = x;
        for (int i = 0; i + 1 < sigmas.Count; i++)
        {
            double a = sigmas[i], b = sigmas[i + 1];
            Tensor next;
            using (Tensor.Scope())
            {
                var d = denoise(current, a);
                nfe++;
                // The predictor keeps its own float form, x + (x − D)/σa·(σb − σa), which the Euler op's
                // D + (x − D)·σb/σa does not round alike; samples of committed teachers depend on it.
                var euler = F.Add(current, F.MulScalar(F.MulScalar(F.Sub(current, d), (float)(1 / a)), (float)(b - a)));
                if (b > 0)
                {
                    euler = F.HeunStep(current, d, euler, denoise(euler, b), (float)(1 / a), (float)(1 / b), (float)(0.5 * (b - a)));
                    nfe++;
                }
                next = euler.Keep();
            }
            if (!ReferenceEquals(current, x)) current.Dispose();
            current = next;
        }
        return current;
    }

    /// <summary>
    /// A few-step student's walk (DMD2): at each level D = D(x; σ_i), then x = D + σ_{i+1}·n_i with FRESH unit noise
    /// <paramref name="fresh"/>(i) (shaped like x) while σ_{i+1} &gt; 0, else x = D. Starts from <paramref name="x"/>
    /// (already scaled to σ₀; not disposed); one evaluation per level, added to <paramref name="nfe"/>.
    /// </summary>
    public static Tensor Renoise(Denoiser denoise, Tensor x, IReadOnlyList<double> sigmas, Func<int, Tensor> fresh, ref int nfe)
    {
        CheckGrid(sigmas);
        using var noGrad = Tensor.NoGrad();
        var current = x;
        for (int i = 0; i + 1 < sigmas.Count; i++)
        {
            double next = sigmas[i + 1];
            Tensor result;
            using (Tensor.Scope())
            {
                var d = denoise(current, sigmas[i]);
                result = (next > 0 ? F.Add(d, F.MulScalar(fresh(i), (float)next)) : d).Keep();
            }
            nfe++;
            if (!ReferenceEquals(current, x)) current.Dispose();
            current = result;
        }
        return current;
    }

    private static void CheckGrid(IReadOnlyList<double> sigmas)
    {
        if (sigmas.Count < 2) throw new ArgumentException($"OdeSampler: a σ grid needs at least 2 levels, got {sigmas.Count}");
        for (int i = 0; i + 1 < sigmas.Count; i++)
            if (!(sigmas[i] > sigmas[i + 1]) || !(sigmas[i + 1] >= 0))
                throw new ArgumentException($"OdeSampler: σ grid must decrease to ≥ 0; σ[{i}] = {sigmas[i]}, σ[{i + 1}] = {sigmas[i + 1]}");
    }
}
