using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

public sealed partial class Dmd2Distiller
{
    /// <summary>
    /// What the checkpoint records besides the weights: the student's sampling metadata (its levels: what `dk sample`
    /// and `dk eval` load), the fake network's kind and config, and the teacher's path and hash; the teacher's data spec
    /// and crop are carried over so the student evaluates against the same data.
    /// </summary>
    private IEnumerable<KeyValuePair<string, string>> RunMetadata()
    {
        var (fakeKind, fakeConfig) = ModelFactory.Describe(Fake);
        var metadata = new Dictionary<string, string>(Student.SamplingMetadata)
        {
            [CheckpointKeys.Method] = Method,
            [CheckpointKeys.AuxiliaryKind] = fakeKind,
            [CheckpointKeys.AuxiliaryConfig] = fakeConfig,
        };
        // With the GAN head the data's own part records the data spec and crop (the same data: the head trains on the teacher's).
        foreach (var (key, value) in Teacher.Provenance(withData: _data == null)) metadata[key] = value;
        return metadata;
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/>. The teacher is <paramref name="teacher"/> when given (it
    /// must hash like the recorded one, and then belongs to the distiller), else the recorded file. Only the total number
    /// of iterations (<paramref name="steps"/>) and what <paramref name="changes"/> may alter change: the checkpoint and
    /// log intervals, the preview size and the two learning rates. Everything else comes from the checkpoint. Output goes
    /// to <paramref name="outDir"/> (default: the checkpoint's directory). A run with the GAN head or on DDIL's inputs
    /// (which it continues on) continues on <paramref name="data"/>, which must be the data it trained on. On DDIL's inputs
    /// with the base's schedule period, <paramref name="steps"/> is the new total the β schedule spans: with the recorded
    /// total the run goes on as the uninterrupted one, with another its weights from the resume point on are those of a
    /// run of the new total at that step (an extension past the old end re-enters the ramp or the final mix where the new
    /// total puts it).
    /// </summary>
    public static Dmd2Distiller Resume(string checkpoint, FrozenTeacher? teacher = null, int? steps = null, string? outDir = null, Device? device = null,
        Func<Dmd2Options, Dmd2Options>? changes = null, IDataSource? data = null)
    {
        var (reader, options) = OpenForResume(checkpoint, "DMD2", "dk distill dmd2 --resume", Method, Dmd2Options.FromJson, steps, changes);
        var (resumedWith, ownTeacher) = FrozenTeacher.ForResume(reader, teacher, device);
        teacher = resumedWith;
        Module? student = null, fake = null;
        Dmd2Distiller distiller;
        try
        {
            var at = device ?? teacher.Device;
            student = ModelFactory.Create(reader.Meta(ModelFactory.KindKey), reader.Meta(ModelFactory.ConfigKey), new Generator(0), at);
            fake = ModelFactory.Create(reader.Meta(CheckpointKeys.AuxiliaryKind), reader.Meta(CheckpointKeys.AuxiliaryConfig), new Generator(0), at);
            var ddil = reader.Metadata.TryGetValue(CheckpointKeys.Ddil, out var json) ? DdilOptions.FromJson(json) : null;
            distiller = new Dmd2Distiller(teacher, student, fake, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)),
                options.Gan || ddil != null ? data : null, ddil);
        }
        catch
        {
            student?.Dispose();
            fake?.Dispose();
            if (ownTeacher) teacher.Dispose();
            throw;
        }
        // The distiller owns the teacher now; on failure a caller's teacher stays alive.
        return Restore(distiller, reader, d =>
        {
            d.State.Dispose();
            d.Student.Module.Dispose();
            d.Fake.Dispose();
            d._head?.Dispose();
            if (ownTeacher) d.Teacher.Dispose();
        });
    }
}
