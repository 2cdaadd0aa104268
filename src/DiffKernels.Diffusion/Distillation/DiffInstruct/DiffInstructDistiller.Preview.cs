using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

public sealed partial class DiffInstructDistiller
{
    // Previews have their own seed so they never touch the run's stream.
    private const ulong PreviewSeed = 0x5EED;

    /// <summary>
    /// <paramref name="n"/> samples of the generator's EMA weights from latents drawn by Generator(<paramref name="seed"/>)
    /// (conditional generators get labels i mod classes), owned by the current scope. For a one-step student these
    /// are the samples `dk sample --seed` draws from its checkpoint. The raw weights are restored afterwards.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"DiffInstruct: sample count {n} must be ≥ 1");
        var module = Generator.Module;
        Tensor result;
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            var raw = module.StateDict().ToDictionary(kv => kv.Key, kv => F.Copy(kv.Value));
            module.LoadStateDict(_ema.Shadow);
            try
            {
                var z = new Generator(seed).Normal([n, .. Generator.LatentShape], _device);
                var labels = Generator.NumClasses == 0 ? null
                    : Tensor.FromSpan(Enumerable.Range(0, n).Select(i => (float)(i % Generator.NumClasses)).ToArray(), [n], _device);
                result = Generator.Generate(z, labels).Keep();
            }
            finally
            {
                module.LoadStateDict(raw);
            }
        }
        return result;
    }

    /// <summary>
    /// Writes <see cref="DiffInstructOptions.PreviewSamples"/> EMA samples to <paramref name="path"/>: 2D points as a
    /// scatter plot (over the teacher's toy density when it was trained on one), images as a PNG grid.
    /// </summary>
    public void WritePreview(string path)
    {
        using var scope = Tensor.Scope();
        var samples = SampleEma(Math.Max(1, Options.PreviewSamples), PreviewSeed);
        if (samples.Rank == 2)
        {
            var toy = Teacher.DataSpec is { } spec && ToyDataSource.IsToySpec(spec) ? ToyDataSource.FromSpec(spec).Toy : null;
            ToyScatterPlot.Save(path, samples.ToArray(), toy == null ? null : ToyEvaluation.DensitySample(toy), toy?.Modes.Count > 0 ? toy.Modes : null);
        }
        else
        {
            ImageGrid.Save(path, F.Narrow(samples, 0, 0, Math.Min(samples.Shape[0], 100)));
        }
    }
}
