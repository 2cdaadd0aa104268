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
        if (Teacher.Path is { } teacherPath) metadata[CheckpointKeys.Teacher] = teacherPath;
        if (Teacher.Sha256 is { } hash) metadata[CheckpointKeys.TeacherHash] = hash;
        if (Teacher.DataSpec is { } data) metadata[CheckpointKeys.Data] = data;
        if (Teacher.Metadata.TryGetValue(CheckpointKeys.Crop, out var crop)) metadata[CheckpointKeys.Crop] = crop;
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
        string? recordedHash = reader.Metadata.GetValueOrDefault(CheckpointKeys.TeacherHash);
        bool ownTeacher = teacher == null;
        if (teacher == null)
        {
            string teacherPath = reader.Metadata.GetValueOrDefault(CheckpointKeys.Teacher)
                ?? throw new ArgumentException($"{checkpoint} does not record its teacher's file; pass the teacher");
            if (!File.Exists(teacherPath))
                throw new ArgumentException($"{checkpoint}: its teacher {teacherPath} does not exist; pass the teacher");
            teacher = FrozenTeacher.Load(teacherPath, device);
        }
        Module? network = null;
        BootDistiller distiller;
        try
        {
            if (recordedHash != null && teacher.Sha256 != null && teacher.Sha256 != recordedHash)
                throw new ArgumentException($"{checkpoint}: the teacher {teacher.Path} (SHA-256 {teacher.Sha256[..12]}…) is not the one this run distils (SHA-256 {recordedHash[..Math.Min(12, recordedHash.Length)]}…)");
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
