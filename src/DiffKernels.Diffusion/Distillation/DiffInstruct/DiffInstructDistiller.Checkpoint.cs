using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

public sealed partial class DiffInstructDistiller
{
    /// <summary>
    /// What the checkpoint records besides the weights: the generator's sampling metadata (what `dk sample` and
    /// `dk eval` load), the auxiliary network's kind and config, and the teacher's path and hash; the teacher's data
    /// spec and crop are carried over so the student evaluates against the same data.
    /// </summary>
    private IEnumerable<KeyValuePair<string, string>> RunMetadata()
    {
        var (auxKind, auxConfig) = ModelFactory.Describe(Auxiliary);
        var metadata = new Dictionary<string, string>(Generator.SamplingMetadata)
        {
            [CheckpointKeys.Method] = Method,
            [CheckpointKeys.AuxiliaryKind] = auxKind,
            [CheckpointKeys.AuxiliaryConfig] = auxConfig,
        };
        foreach (var (key, value) in Teacher.Provenance()) metadata[key] = value;
        return metadata;
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/>. The teacher is <paramref name="teacher"/> when
    /// given (it must hash like the recorded one, and then belongs to the distiller), else the recorded file.
    /// Only the total number of iterations (<paramref name="steps"/>) and what <paramref name="changes"/> may alter
    /// change: the checkpoint and log intervals, the preview size and the two learning rates (a run continued at
    /// lower rates keeps its Adam moments; its log shows the rates of every line). Everything else comes from the
    /// checkpoint. Output goes to <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static DiffInstructDistiller Resume(string checkpoint, FrozenTeacher? teacher = null, int? steps = null, string? outDir = null, Device? device = null,
        Func<DiffInstructOptions, DiffInstructOptions>? changes = null)
    {
        var (reader, options) = OpenForResume(checkpoint, "Diff-Instruct", "dk distill diff-instruct --resume", Method, DiffInstructOptions.FromJson, steps, changes);
        var (resumedWith, ownTeacher) = FrozenTeacher.ForResume(reader, teacher, device);
        teacher = resumedWith;
        Module? generatorModule = null, auxiliary = null;
        DiffInstructDistiller distiller;
        try
        {
            var at = device ?? teacher.Device;
            generatorModule = ModelFactory.Create(reader.Meta(ModelFactory.KindKey), reader.Meta(ModelFactory.ConfigKey), new Generator(0), at);
            var generator = GeneratorCheckpoint.Wrap(generatorModule, reader.Metadata);
            auxiliary = ModelFactory.Create(reader.Meta(CheckpointKeys.AuxiliaryKind), reader.Meta(CheckpointKeys.AuxiliaryConfig), new Generator(0), at);
            distiller = new DiffInstructDistiller(teacher, generator, auxiliary, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)));
        }
        catch
        {
            generatorModule?.Dispose();
            auxiliary?.Dispose();
            if (ownTeacher) teacher.Dispose();
            throw;
        }
        // The distiller owns the teacher now; on failure a caller's teacher stays alive.
        return Restore(distiller, reader, d =>
        {
            d.State.Dispose();
            d.Generator.Module.Dispose();
            d.Auxiliary.Dispose();
            if (ownTeacher) d.Teacher.Dispose();
        });
    }
}
