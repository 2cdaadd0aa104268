using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

public sealed partial class DiffInstructDistiller
{
    /// <summary>
    /// Refinement of a pretrained generator (e.g. a GAN's): the generator keeps its own network and weights, the
    /// auxiliary denoiser starts as a copy of the teacher, as in distillation. The distiller owns the generator.
    /// </summary>
    public static DiffInstructDistiller FromGenerator(FrozenTeacher teacher, IGenerator generator, DiffInstructOptions options, string? outDir = null)
    {
        var aux = teacher.TrainableCopy();
        try
        {
            return new DiffInstructDistiller(teacher, generator, aux, options, outDir);
        }
        catch
        {
            aux.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="FromGenerator(FrozenTeacher, IGenerator, DiffInstructOptions, string?)"/> with the generator read from
    /// the model checkpoint at <paramref name="generatorPath"/> (its sampling weights; see <see cref="GeneratorCheckpoint.Wrap"/>).
    /// </summary>
    public static DiffInstructDistiller FromGenerator(FrozenTeacher teacher, string generatorPath, DiffInstructOptions options, string? outDir = null)
    {
        CheckpointKind.RequireRelease(generatorPath, "a generator to refine (--generator)", ModelRole.GanGenerator, ModelRole.Student);
        var loaded = ModelFactory.Load(generatorPath, teacher.Device);
        try
        {
            IGenerator generator;
            try
            {
                generator = GeneratorCheckpoint.Wrap(loaded.Model, loaded.Metadata);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{generatorPath}: {e.Message}", e);
            }
            return FromGenerator(teacher, generator, options, outDir);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }
}
