using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Progressive;

public sealed partial class ProgressiveDistiller
{
    /// <summary>
    /// How the student the state holds samples: deterministic Euler on its own levels of the teacher's grid (σ_max its
    /// first level, so a one-step student is also a one-step generator at σ_max), with the run's x0 thresholding.
    /// </summary>
    public SamplerDefaults SamplerDefaults
    {
        get
        {
            var levels = Schedule.StudentLevels(Round);
            return new SamplerDefaults(SamplerKind.Euler, levels.Length, levels[0], levels, Options.Threshold);
        }
    }

    /// <summary>
    /// What the checkpoint records besides the weights: the method, the student's sampler (what `dk sample`, `dk eval`
    /// and `dk export` read), σd, and the original teacher's path and hash.
    /// </summary>
    private IEnumerable<KeyValuePair<string, string>> RunMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            [CheckpointKeys.Method] = Method,
            [Edm.SigmaDataKey] = Teacher.Edm.SigmaData.ToString("R", CultureInfo.InvariantCulture),
        };
        SamplerDefaults.ApplyTo(metadata);
        foreach (var (key, value) in Teacher.Provenance(withData: false)) metadata[key] = value;
        return metadata;
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on <paramref name="data"/> (the data it trained on).
    /// The state holds the round's teacher, so the teacher file is not read again (its recorded path and hash carry
    /// over); a run on DDIL's inputs continues on them (their β schedule restarts each round, whatever the total). Only
    /// the total number of iterations (<paramref name="steps"/>, at most rounds × steps per round: the last round ends the
    /// run) and what <paramref name="changes"/> may alter change (the checkpoint and log intervals, the preview size).
    /// Output goes to <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static ProgressiveDistiller Resume(string checkpoint, IDataSource data, int? steps = null, string? outDir = null, Device? device = null,
        Func<ProgressiveOptions, ProgressiveOptions>? changes = null)
    {
        var (reader, options) = OpenForResume(checkpoint, "progressive distillation", "dk distill pd --resume", Method, ProgressiveOptions.FromJson, steps, changes);
        FrozenTeacher? teacher = null;
        Nn.Module? student = null;
        ProgressiveDistiller distiller;
        try
        {
            string kind = reader.Meta(ModelFactory.KindKey), config = reader.Meta(ModelFactory.ConfigKey);
            var teacherNet = (INoiseNet)ModelFactory.Create(kind, config, new Generator(0), device);
            teacher = new FrozenTeacher(teacherNet, Edm.FromMetadata(reader.Metadata), null,
                reader.Metadata.GetValueOrDefault(CheckpointKeys.Teacher), reader.Metadata.GetValueOrDefault(CheckpointKeys.TeacherHash));
            student = ModelFactory.Create(kind, config, new Generator(0), device);
            var ddil = reader.Metadata.TryGetValue(CheckpointKeys.Ddil, out var json) ? DdilOptions.FromJson(json) : null;
            distiller = new ProgressiveDistiller(teacher, student, data, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)), ddil);
        }
        catch
        {
            student?.Dispose();
            teacher?.Dispose();
            throw;
        }
        return Restore(distiller, reader);
    }
}
