using System.Diagnostics;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>Draws samples from an <see cref="IGenerator"/> (e.g. a GAN generator): one network evaluation per sample.</summary>
public static class GeneratorSampler
{
    /// <summary>
    /// Draws <paramref name="n"/> samples from latents drawn all at once from Generator(<paramref name="seed"/>), so
    /// results do not depend on <paramref name="batchSize"/>. A conditional generator without
    /// <paramref name="labels"/> gets balanced labels i mod classes. Runs under NoGrad; the samples belong to the
    /// scope that was current when sampling began. The result reports 1 NFE. With <paramref name="part"/> the n samples
    /// are samples [First, First + n) of a draw of Total (<see cref="SamplePart"/>).
    /// </summary>
    public static SampleResult Generate(IGenerator generator, int n, ulong seed = 0, int batchSize = 1024, float[]? labels = null, Device? device = null,
        SamplePart? part = null)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"GeneratorSampler: sample count {n} must be ≥ 1");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"GeneratorSampler: batch size {batchSize} must be ≥ 1");
        if (labels != null && labels.Length != n)
            throw new ArgumentException($"GeneratorSampler: {labels.Length} labels for {n} samples");
        if (labels != null && generator.NumClasses == 0)
            throw new ArgumentException("GeneratorSampler: labels given for an unconditional generator");
        var p = SamplePart.Check(part, n, generator.LatentShape.Numel);
        if (labels == null && generator.NumClasses > 0)
            labels = SamplePart.BalancedLabels(p, n, generator.NumClasses);

        var watch = Stopwatch.StartNew();
        Tensor result;
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            var latents = new Generator(seed, p.Offset(generator.LatentShape.Numel, 0)).Normal([n, .. generator.LatentShape], device);
            var chunks = new List<Tensor>();
            for (int start = 0; start < n; start += batchSize)
            {
                int len = Math.Min(batchSize, n - start);
                var chunkLabels = labels == null ? null : Tensor.FromSpan(labels.AsSpan(start, len), [len], device);
                chunks.Add(EvaluationSlices.Evaluate(F.Narrow(latents, 0, start, len), chunkLabels, generator.Generate));
            }
            result = (chunks.Count == 1 ? F.Copy(chunks[0]) : F.Concat(chunks, 0)).Keep();
        }
        return new SampleResult(result, 1, watch.Elapsed.TotalSeconds);
    }
}
