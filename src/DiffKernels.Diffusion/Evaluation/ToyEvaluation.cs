using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>A toy model's scores against its data distribution.</summary>
/// <param name="Toy">The toy's name.</param>
/// <param name="Samples">Points drawn from the model (and from the data for each reference set).</param>
/// <param name="SlicedWasserstein">SW₂ between the model's samples and a fresh data sample.</param>
/// <param name="Floor">SW₂ between two independent fresh data samples of the same size: what a perfect model scores.</param>
/// <param name="Coverage">Mode coverage and off-mode fraction, or null for toys without modes.</param>
/// <param name="Sampler">The sampler used.</param>
/// <param name="Nfe">Denoiser evaluations per sample.</param>
/// <param name="MsPerSample">Sampling time per point.</param>
public sealed record ToyReport(string Toy, int Samples, double SlicedWasserstein, double Floor, ModeCoverage? Coverage, SamplerKind Sampler, int Nfe, double MsPerSample)
{
    /// <summary>SW relative to its floor (1 is perfect).</summary>
    public double FloorRatio => SlicedWasserstein / Floor;
}

/// <summary>Samples a model and scores it on a 2D toy (the evaluation protocol for toys).</summary>
public static class ToyEvaluation
{
    private const ulong FirstDataKey = 0xD1B54A32D192ED03UL;
    private const ulong SecondDataKey = 0x8CB92BA72F3D8DD7UL;

    /// <summary>
    /// Draws <paramref name="n"/> samples with <paramref name="options"/>, and two fresh data samples of the same
    /// size keyed from the same seed; returns the report and the model's samples (interleaved x, y).
    /// </summary>
    public static (ToyReport Report, float[] Samples) Evaluate(INoiseNet net, Edm edm, ToyDistribution toy, int n, SamplerOptions options, Device? device = null)
    {
        if (net.SampleShape != new Shape(2)) throw new ArgumentException($"ToyEvaluation: the model draws samples of shape {net.SampleShape}, not 2D points");
        float[] samples;
        SampleResult result;
        using (Tensor.Scope())
        {
            result = DiffusionSampler.Generate(net, edm, n, options, device: device);
            samples = result.Samples.ToArray();
        }
        return Score(toy, n, options, samples, result.Nfe, result.Seconds);
    }

    /// <summary>
    /// The same protocol for a model read from its checkpoint, drawn as <see cref="PretrainedModel.Sample"/> draws
    /// it with <paramref name="options"/> (null: the model's own sampler), a batch at a time (the same values as one
    /// draw); <paramref name="progress"/> hears (samples drawn, n) after each batch.
    /// </summary>
    public static (ToyReport Report, float[] Samples) Evaluate(PretrainedModel model, ToyDistribution toy, int n, SamplerOptions? options = null,
        Action<long, long>? progress = null)
    {
        if (model.SampleShape != new Shape(2)) throw new ArgumentException($"ToyEvaluation: the model draws samples of shape {model.SampleShape}, not 2D points");
        var o = options ?? model.DefaultOptions;
        var samples = new float[2L * n];
        var (nfe, seconds) = model.SampleInParts(n, o.Seed, null, o, o.BatchSize, (part, first) =>
        {
            part.Samples.ToArray().CopyTo(samples, 2 * first);
            progress?.Invoke(first + part.Samples.Shape[0], n);
        });
        return Score(toy, n, o, samples, nfe, seconds);
    }

    private static (ToyReport Report, float[] Samples) Score(ToyDistribution toy, int n, SamplerOptions options, float[] samples, int nfe, double seconds)
    {
        var data = toy.Sample(n, new Generator(options.Seed ^ FirstDataKey));
        var second = toy.Sample(n, new Generator(options.Seed ^ SecondDataKey));
        var report = new ToyReport(toy.Name, n,
            ToyMetrics.SlicedWasserstein(samples, data, seed: options.Seed),
            ToyMetrics.SlicedWasserstein(second, data, seed: options.Seed),
            toy.Modes.Count > 0 ? ToyMetrics.Coverage(samples, toy.Modes) : null,
            options.Kind, nfe, 1000 * seconds / n);
        return (report, samples);
    }

    /// <summary>A reference sample of the toy for plot backgrounds (independent of the evaluation's data samples).</summary>
    public static float[] DensitySample(ToyDistribution toy, int n = 100_000) => toy.Sample(n, new Generator(FirstDataKey ^ SecondDataKey));
}
