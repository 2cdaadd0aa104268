using System.Diagnostics;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>Samples drawn from a model, with the cost of drawing them.</summary>
/// <param name="Samples">[N, …sample shape], owned by the scope that was current when sampling began.</param>
/// <param name="Nfe">Denoiser evaluations per sample.</param>
/// <param name="Seconds">Wall-clock time of the integration.</param>
public sealed record SampleResult(Tensor Samples, int Nfe, double Seconds)
{
    /// <summary>Milliseconds per sample.</summary>
    public double MsPerSample => Samples.Shape[0] == 0 ? 0 : 1000 * Seconds / Samples.Shape[0];
}

/// <summary>Draws samples from an EDM-preconditioned <see cref="INoiseNet"/> with one of the ODE samplers.</summary>
public static class DiffusionSampler
{
    /// <summary>
    /// Draws <paramref name="n"/> samples. With <see cref="SamplerOptions.Threshold"/> every x0 estimate is thresholded
    /// before the step continues from it (reflected diffusion). The initial noise for all of them is drawn at once from
    /// Generator(seed), so results do not depend on the batch size. A conditional model without
    /// <paramref name="labels"/> gets balanced labels i mod classes. With <paramref name="part"/> the n samples are
    /// samples [First, First + n) of a draw of Total (<see cref="SamplePart"/>): the same values, drawn a part at a time.
    /// </summary>
    public static SampleResult Generate(INoiseNet net, Edm edm, int n, SamplerOptions options, float[]? labels = null, Device? device = null, SamplePart? part = null)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"DiffusionSampler: sample count {n} must be ≥ 1");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), $"DiffusionSampler: batch size {options.BatchSize} must be ≥ 1");
        if (options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), $"DiffusionSampler: steps {options.Steps} must be ≥ 1");
        if (options.Kind == SamplerKind.Generator)
            throw new ArgumentException($"DiffusionSampler: the {SamplerOptions.GeneratorName} sampler draws from generator networks (GeneratorSampler), not from a denoiser; use heun, euler, ddim or renoise");
        if (labels != null && labels.Length != n)
            throw new ArgumentException($"DiffusionSampler: {labels.Length} labels for {n} samples");
        if (labels != null && net.NumClasses == 0)
            throw new ArgumentException("DiffusionSampler: labels given for an unconditional model");
        var p = SamplePart.Check(part, n, net.SampleShape.Numel);
        if (labels == null && net.NumClasses > 0)
            labels = SamplePart.BalancedLabels(p, n, net.NumClasses);

        var grid = options.Grid();
        var watch = Stopwatch.StartNew();
        int nfe = 0;
        Tensor result;
        using (var scope = Tensor.Scope())
        using (Tensor.NoGrad())
        {
            var shape = new[] { n }.Concat(net.SampleShape).ToArray();
            long numel = net.SampleShape.Numel;
            var noise = new Generator(options.Seed, p.Offset(numel, 0)).Normal(shape, device);
            // A re-noising walk draws the fresh noise of every later level for all samples up front, after the
            // initial noise, so its samples do not depend on the batch size either.
            var fresh = options.Kind == SamplerKind.Renoise
                ? Enumerable.Range(1, grid.Length - 2).Select(level => new Generator(options.Seed, p.Offset(numel, level)).Normal(shape, device)).ToArray()
                : [];
            var chunks = new List<Tensor>();
            for (int start = 0; start < n; start += options.BatchSize)
            {
                int len = Math.Min(options.BatchSize, n - start);
                var x = F.MulScalar(F.Narrow(noise, 0, start, len), (float)grid[0]);
                var chunkLabels = labels == null ? null : Tensor.FromSpan(labels.AsSpan(start, len), [len], device);
                Denoiser d = (xi, sigma) => EvaluationSlices.Evaluate(xi, chunkLabels, (xs, ls) => edm.GuidedDenoise(net, xs, sigma, ls, options.Guidance));
                if (options.Threshold is { } q)
                {
                    var plain = d;
                    d = (xi, sigma) => X0Threshold.Apply(plain(xi, sigma), q);
                }
                int chunkNfe = 0;
                chunks.Add(options.Kind switch
                {
                    SamplerKind.Heun => OdeSampler.Heun(d, x, grid, ref chunkNfe),
                    SamplerKind.Renoise => OdeSampler.Renoise(d, x, grid, i => F.Narrow(fresh[i], 0, start, len), ref chunkNfe),
                    _ => OdeSampler.Euler(d, x, grid, ref chunkNfe),
                });
                nfe = chunkNfe;
            }
            result = (chunks.Count == 1 ? F.Copy(chunks[0]) : F.Concat(chunks, 0)).Keep();
        }
        return new SampleResult(result, nfe, watch.Elapsed.TotalSeconds);
    }
}
