using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

// What every kind draws: latents for its generator, samples of its EMA weights, previews of them.
public abstract partial class TrainingRun<TOptions>
{
    /// <summary>
    /// <paramref name="draw"/> run with the EMA weights in the sampled network (evaluation mode, no graph); its raw
    /// weights and mode are restored afterwards. The result belongs to the current scope.
    /// </summary>
    protected Tensor WithEmaWeights(Func<Tensor> draw)
    {
        var module = State.Sampled;
        bool training = module.Training;
        Tensor result;
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            var raw = module.StateDict().ToDictionary(kv => kv.Key, kv => F.Copy(kv.Value));
            module.LoadStateDict(State.Ema.Shadow);
            module.Eval();
            try
            {
                result = draw().Keep();
            }
            finally
            {
                module.LoadStateDict(raw);
                module.Train(training);
            }
        }
        return result;
    }

    /// <summary>
    /// <paramref name="n"/> samples of <paramref name="generator"/> with the EMA weights, from latents drawn by
    /// Generator(<paramref name="seed"/>) (conditional generators get labels i mod classes): what `dk sample --seed`
    /// draws from the checkpoint. They belong to the current scope.
    /// </summary>
    protected Tensor SampleEma(IGenerator generator, int n, ulong seed)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"{GetType().Name}: sample count {n} must be ≥ 1");
        return WithEmaWeights(() => GeneratorSampler.Generate(generator, n, seed, n, device: Device).Samples);
    }

    /// <summary>
    /// Writes <paramref name="samples"/> as a preview: 2D points as a scatter plot over <paramref name="toySpec"/>'s
    /// density when it names a toy (else over <paramref name="reference"/> points), images as a grid of the first 100.
    /// </summary>
    protected static void SavePreview(string path, Tensor samples, string? toySpec = null, float[]? reference = null)
    {
        if (samples.Rank != 2)
        {
            ImageGrid.Save(path, F.Narrow(samples, 0, 0, Math.Min(samples.Shape[0], 100)));
            return;
        }
        var toy = toySpec != null && ToyDataSource.IsToySpec(toySpec) ? ToyDataSource.FromSpec(toySpec).Toy : null;
        ToyScatterPlot.Save(path, samples.ToArray(), toy == null ? reference : ToyEvaluation.DensitySample(toy), toy?.Modes.Count > 0 ? toy.Modes : null);
    }

    /// <summary>Latents [B, …] from <paramref name="rng"/> and, for a conditional generator, uniformly drawn class ids.</summary>
    protected (Tensor Z, Tensor? Labels) DrawLatents(IGenerator generator, Generator rng) => DrawLatents(generator.LatentShape, generator.NumClasses, rng);

    /// <summary>Latents [B, …<paramref name="latentShape"/>] from <paramref name="rng"/> and, with classes, uniformly drawn class ids.</summary>
    protected (Tensor Z, Tensor? Labels) DrawLatents(Shape latentShape, int numClasses, Generator rng)
    {
        int b = Options.BatchSize;
        var z = rng.Normal([b, .. latentShape], Device);
        if (numClasses == 0) return (z, null);
        var u = rng.Uniform([b], Device.Cpu).ToArray();
        var labels = u.Select(v => (float)Math.Min((int)(v * numClasses), numClasses - 1)).ToArray();
        return (z, Tensor.FromSpan(labels, [b], Device));
    }
}
