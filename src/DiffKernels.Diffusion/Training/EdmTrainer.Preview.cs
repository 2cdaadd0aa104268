using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

public sealed partial class EdmTrainer
{
    // Preview noise and reference data have their own keys so previews never touch the training streams.
    private const ulong PreviewSeed = 0x5EED;

    /// <summary>
    /// Samples the EMA weights (Heun, 18 levels, a fixed seed) and writes them to <paramref name="path"/>: 2D
    /// points as a scatter plot over a reference batch of the data, images as a PNG grid.
    /// </summary>
    public void WritePreview(string path)
    {
        var (kind, config) = ModelFactory.Describe(Model);
        using var copy = ModelFactory.Create(kind, config, new Generator(0), _device);
        copy.LoadStateDict(_ema.Shadow);
        copy.Eval();
        using var scope = Tensor.Scope();
        var samples = DiffusionSampler.Generate((INoiseNet)copy, Edm, Options.PreviewSamples, new SamplerOptions(Seed: PreviewSeed), device: _device).Samples;
        if (_net.SampleShape.Rank == 1 && _net.SampleShape[0] == 2)
        {
            var reference = Data.Batch(0, 20_000, new Generator(PreviewSeed), Device.Cpu).X.ToArray();
            ToyScatterPlot.Save(path, samples.ToArray(), reference);
        }
        else if (_net.SampleShape.Rank == 3)
        {
            ImageGrid.Save(path, samples);
        }
    }
}
