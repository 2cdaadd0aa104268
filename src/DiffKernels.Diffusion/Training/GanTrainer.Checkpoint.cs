using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

public sealed partial class GanTrainer
{
    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on the same data. Only the total number of iterations
    /// (<paramref name="steps"/>) and the bookkeeping that leaves the loss curve alone (<paramref name="bookkeeping"/>:
    /// checkpoint and log intervals, preview size) may change. Output goes to <paramref name="outDir"/> (default: the
    /// checkpoint's directory).
    /// </summary>
    public static GanTrainer Resume(string checkpoint, IDataSource data, int? steps = null, string? outDir = null, Device? device = null,
        Func<GanOptions, GanOptions>? bookkeeping = null)
    {
        var (reader, options) = OpenForResume(checkpoint, "GAN training", "dk train-gan --resume", Method, GanOptions.FromJson, steps, bookkeeping);
        if (reader.Meta(ModelFactory.KindKey) != GanConfig.GeneratorKind)
            throw new ArgumentException($"{checkpoint}: holds a '{reader.Meta(ModelFactory.KindKey)}' model, not a {GanConfig.GeneratorKind}");
        GanGenerator? generator = null;
        GanDiscriminator? discriminator = null;
        GanTrainer trainer;
        try
        {
            generator = new GanGenerator(GanConfig.FromJson(reader.Meta(ModelFactory.ConfigKey)), new Generator(0), device);
            discriminator = new GanDiscriminator(GanConfig.FromJson(reader.Meta(CheckpointKeys.DiscriminatorConfig)), new Generator(0), device);
            trainer = new GanTrainer(generator, discriminator, data, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)));
        }
        catch
        {
            generator?.Dispose();
            discriminator?.Dispose();
            throw;
        }
        return Restore(trainer, reader);
    }
}
