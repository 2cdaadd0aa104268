using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Boot;

public sealed partial class BootDistiller
{
    /// <summary>
    /// What the checkpoint records besides the weights: the student's sampling metadata (that it is a BOOT student,
    /// its parameterisation and σ range: what `dk sample` and `dk eval` read), the teacher's path and hash, and the
    /// teacher's data spec and crop, so the student evaluates against the same data.
    /// </summary>
    private IEnumerable<KeyValuePair<string, string>> RunMetadata()
    {
        var metadata = new Dictionary<string, string>(Student.SamplingMetadata) { [CheckpointKeys.Method] = Method };
        foreach (var (key, value) in Teacher.Provenance()) metadata[key] = value;
        return metadata;
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/>. The teacher is <paramref name="teacher"/> when given (it
    /// must hash like the recorded one, and then belongs to the distiller), else the recorded file. Only the total number
    /// of iterations (<paramref name="steps"/>) and what <paramref name="changes"/> may alter change (intervals, preview
    /// size, learning rate). Output goes to <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static BootDistiller Resume(string checkpoint, FrozenTeacher? teacher = null, int? steps = null, string? outDir = null, Device? device = null,
        Func<BootOptions, BootOptions>? changes = null)
    {
        var (reader, options) = OpenForResume(checkpoint, "BOOT", "dk distill boot --resume", Method, BootOptions.FromJson, steps, changes);
        var (resumedWith, ownTeacher) = FrozenTeacher.ForResume(reader, teacher, device);
        teacher = resumedWith;
        Module? network = null;
        BootDistiller distiller;
        try
        {
            network = ModelFactory.Create(reader.Meta(ModelFactory.KindKey), reader.Meta(ModelFactory.ConfigKey), new Generator(0), device ?? teacher.Device);
            var student = BootStudent.FromMetadata(network, reader.Metadata)
                ?? throw new ArgumentException($"{checkpoint}: no BOOT student recorded (metadata '{BootStudent.ParameterisationKey}')");
            distiller = new BootDistiller(teacher, student, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)));
        }
        catch
        {
            network?.Dispose();
            if (ownTeacher) teacher.Dispose();
            throw;
        }
        return Restore(distiller, reader, d =>
        {
            d.State.Dispose();
            d.Student.Module.Dispose();
            if (ownTeacher) d.Teacher.Dispose();
        });
    }
}
