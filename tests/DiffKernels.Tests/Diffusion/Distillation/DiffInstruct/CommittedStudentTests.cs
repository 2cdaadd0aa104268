using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Tests.Diffusion.Models;

namespace DiffKernels.Tests.Diffusion.Distillation.DiffInstruct;

/// <summary>The one-step students committed under models/ sample in one step and stay close to their teachers.</summary>
public class CommittedStudentTests
{
    private const int N = 2000;

    private static ToyReport Evaluate(string path, SamplerOptions? flags, out LoadedModel loaded)
    {
        loaded = ModelFactory.Load(path);
        loaded.Model.Eval();
        var toy = ToyDataSource.FromSpec(CheckpointKind.DataSpec(loaded.Metadata)!).Toy;
        var options = flags ?? SamplerDefaults.Of(loaded.Metadata).ApplyTo(new SamplerOptions(Seed: 3));
        return ToyEvaluation.Evaluate(loaded.Net, Edm.FromMetadata(loaded.Metadata), toy, N, options).Report;
    }

    [TestCase("8gaussians")]
    [TestCase("checkerboard")]
    [TestCase("swissroll")]
    public void ToyStudentSamplesInOneStepAsWellAsItsTeacher(string name)
    {
        string models = RepoFiles.ModelsDir();
        var student = Evaluate(Path.Combine(models, $"toy-{name}-diff-instruct.safetensors"), null, out var loaded);
        using (loaded)
        {
            Assert.That(loaded.Metadata["method"], Is.EqualTo(DiffInstructDistiller.Method));
            Assert.That(loaded.Metadata["teacher"], Is.EqualTo($"models/toy-{name}-teacher.safetensors"));
            // The student was distilled from its teacher's training checkpoint, which the teacher's release file names as its source.
            var teacherFile = SafeTensors.ReadHeader(Path.Combine(models, $"toy-{name}-teacher.safetensors"));
            Assert.That(loaded.Metadata["teacher_sha256"], Is.EqualTo(teacherFile.Metadata["source_sha256"]));
            Assert.That(SamplerDefaults.Of(loaded.Metadata) is { Kind: SamplerKind.Euler, Steps: 1 }, "the student's own sampler is one Euler step");
        }
        // The teacher under the evaluation protocol's sampler: Heun, 18 levels from σ_max 80 (35 NFE), same seed.
        var teacher = Evaluate(Path.Combine(models, $"toy-{name}-teacher.safetensors"), new SamplerOptions(Seed: 3), out var teacherModel);
        teacherModel.Dispose();
        TestContext.Out.WriteLine($"{name}: student SW {student.SlicedWasserstein:F4} (1 NFE), teacher {teacher.SlicedWasserstein:F4} ({teacher.Nfe} NFE), floor {student.Floor:F4}");
        Assert.That(student.Nfe, Is.EqualTo(1));
        Assert.That(teacher.Nfe, Is.EqualTo(35));
        Assert.That(student.SlicedWasserstein, Is.LessThanOrEqualTo(1.5 * teacher.SlicedWasserstein));
        if (student.Coverage is { } c) Assert.That(c.Covered, Is.EqualTo(c.Total), "every mode covered");
    }
}
