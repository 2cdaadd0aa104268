using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

public sealed partial class EdmTrainer
{
    // What sampling reads besides the weights: σd, and the default sampler when one was set.
    private IEnumerable<KeyValuePair<string, string>> SamplingMetadata()
    {
        var metadata = new Dictionary<string, string> { [Edm.SigmaDataKey] = Edm.SigmaData.ToString("R", CultureInfo.InvariantCulture) };
        SamplingDefaults?.ApplyTo(metadata);
        return metadata;
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on the same data. Only the total number of
    /// steps (<paramref name="steps"/>) and the bookkeeping that leaves the loss curve alone
    /// (<paramref name="bookkeeping"/>: checkpoint and log intervals, preview size) may change; everything else
    /// comes from the checkpoint. Output goes to <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static EdmTrainer Resume(string checkpoint, IDataSource data, int? steps = null, string? outDir = null, Device? device = null,
        Func<TrainerOptions, TrainerOptions>? bookkeeping = null)
    {
        var (reader, options) = OpenForResume(checkpoint, "training", "dk train --resume", null, TrainerOptions.FromJson, steps, bookkeeping);
        var model = ModelFactory.Create(reader.Meta(ModelFactory.KindKey), reader.Meta(ModelFactory.ConfigKey), new Generator(0), device);
        EdmTrainer trainer;
        try
        {
            trainer = new EdmTrainer(model, data, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return Restore(trainer, reader);
    }
}
