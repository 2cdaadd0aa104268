using System.Globalization;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

/// <summary>
/// DMD2's K-step generator: one EDM-preconditioned denoiser D_G (initialised from the teacher) used at K fixed levels
/// σ_1 &gt; … &gt; σ_K. A sample starts at σ_1·z; each step denoises, and all but the last re-noise the estimate with
/// FRESH noise to the next level: the <see cref="SamplerKind.Renoise"/> walk its checkpoint records (one step: the
/// one-step generator of <see cref="OneStepGenerator"/>, one Euler step from σ_1).
/// </summary>
public sealed class FewStepStudent
{
    /// <summary>
    /// Wraps <paramref name="denoiser"/> (a module implementing <see cref="INoiseNet"/>) at <paramref name="levels"/>; with
    /// <paramref name="threshold"/> its x0 estimates are thresholded (see Sampling.X0Threshold) as it walks and samples.
    /// </summary>
    public FewStepStudent(Module denoiser, Edm edm, IReadOnlyList<double> levels, float? threshold = null)
    {
        Net = denoiser as INoiseNet ?? throw new ArgumentException($"FewStepStudent: {denoiser.GetType().Name} is not an INoiseNet");
        if (levels.Count < 1) throw new ArgumentException("FewStepStudent: needs at least one σ level");
        double min = new SamplerOptions().SigmaMin;
        for (int i = 0; i < levels.Count; i++)
            if (!(levels[i] > 0) || !double.IsFinite(levels[i]) || (i > 0 && !(levels[i] < levels[i - 1])) || (i == 0 && !(levels[0] > min)))
                throw new ArgumentException($"FewStepStudent: σ levels must be finite, positive and decreasing from above {min}; level {i} is {levels[i]}");
        Module = denoiser;
        Edm = edm;
        Levels = levels.ToArray();
        Threshold = threshold;
    }

    /// <summary>x0 thresholding of the student's estimates (null: none).</summary>
    public float? Threshold { get; }

    /// <summary>The trainable denoiser.</summary>
    public Module Module { get; }

    /// <summary>The same network as an <see cref="INoiseNet"/>.</summary>
    public INoiseNet Net { get; }

    /// <summary>The preconditioning (the teacher's σd).</summary>
    public Edm Edm { get; }

    /// <summary>The student's levels σ_1 &gt; … &gt; σ_K.</summary>
    public IReadOnlyList<double> Levels { get; }

    /// <summary>Number of steps K.</summary>
    public int Steps => Levels.Count;

    /// <summary>
    /// Backward simulation: the input of each sample's step <paramref name="step"/>[i] (0-based), found by running the
    /// student itself without a graph from σ_1·<paramref name="z"/> through the earlier steps, each estimate re-noised
    /// with fresh unit noise from <paramref name="rng"/> (one [N, …] draw per level reached beyond the first), exactly
    /// as sampling walks. Returns those inputs and their levels σ [N]. Given <paramref name="rows"/> (a rank's share of
    /// the batch <paramref name="z"/>, <paramref name="step"/> and <paramref name="labels"/> hold), only those rows are
    /// walked and returned, while <paramref name="rng"/> advances as the whole batch's walk advances it.
    /// </summary>
    public (Tensor Input, Tensor Sigma) SimulateInputs(Tensor z, IReadOnlyList<int> step, Generator rng, Tensor? labels = null, BatchShard? rows = null)
    {
        int n = z.Shape[0];
        if (step.Count != n) throw new ArgumentException($"FewStepStudent: {step.Count} step indices for {n} latents");
        if (step.Any(s => s < 0 || s >= Steps)) throw new ArgumentException($"FewStepStudent: step indices must lie in [0, {Steps})");
        var shard = rows ?? new BatchShard(0, 1, n);
        if (shard.BatchSize != n) throw new ArgumentException($"FewStepStudent: rows of a batch of {shard.BatchSize} for {n} latents");
        using var noGrad = Tensor.NoGrad();
        var own = step.Skip(shard.Start).Take(shard.Count).ToArray();
        labels = shard.Rows(labels);
        var x = F.MulScalar(shard.RowsOf(z), (float)Levels[0]);
        var input = x;
        var maskShape = Enumerable.Repeat(1, z.Rank).ToArray();
        maskShape[0] = own.Length;
        // The whole batch's deepest step sets how many levels draw noise, on every rank alike.
        for (int j = 1; j <= step.Max(); j++)
        {
            var d = Edm.Denoise(Net, x, Levels[j - 1], labels);
            d = X0Threshold.Apply(d, Threshold);
            x = F.Add(d, F.MulScalar(shard.Normal(rng, new Shape(z.Shape.ToArray()[1..]), z.Device), (float)Levels[j]));
            var at = Tensor.FromSpan(own.Select(s => s == j ? 1f : 0f).ToArray(), maskShape, z.Device);
            input = F.Where(at, x, input);
        }
        var sigma = Tensor.FromSpan(own.Select(s => (float)Levels[s]).ToArray(), [own.Length], z.Device);
        return (input, sigma);
    }

    /// <summary>D_G(x; σ, c) with per-sample σ [N]: the student's estimate at its inputs (recorded unless under NoGrad).</summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null) => Edm.Denoise(Net, x, sigma, labels);

    /// <summary>
    /// Metadata that makes the saved denoiser sample like this student: one step, the one-step generator's (one Euler
    /// step from σ_1); more, the <see cref="SamplerKind.Renoise"/> walk over the recorded levels; and its x0 thresholding.
    /// </summary>
    public IReadOnlyDictionary<string, string> SamplingMetadata
    {
        get
        {
            var metadata = Steps == 1
                ? new Dictionary<string, string>(new OneStepGenerator(Module, Edm, Levels[0]).SamplingMetadata)
                : new Dictionary<string, string>
                {
                    [SamplerOptions.KindKey] = "renoise",
                    [SamplerOptions.StepsKey] = Steps.ToString(CultureInfo.InvariantCulture),
                    [SamplerOptions.SigmaMaxKey] = Levels[0].ToString("R", CultureInfo.InvariantCulture),
                    [SamplerOptions.SigmasKey] = SamplerDefaults.FormatSigmas(Levels),
                    [Edm.SigmaDataKey] = Edm.SigmaData.ToString("R", CultureInfo.InvariantCulture),
                };
            if (Threshold != null) metadata[SamplerOptions.ThresholdKey] = X0Threshold.Format(Threshold);
            return metadata;
        }
    }

    /// <summary>The sampler a loaded checkpoint of this student uses (what `dk sample` draws with).</summary>
    public SamplerOptions Sampler => SamplerDefaults.Of(SamplingMetadata).ApplyTo(new SamplerOptions());
}
