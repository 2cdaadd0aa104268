using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;

namespace DiffKernels.Tests.Diffusion.Distillation.Progressive;

/// <summary>
/// The progressive-distillation students committed under models/ sample with K Euler steps on the levels they were
/// trained on and stay close to the teacher sampler they distil (Euler from the halving's start).
/// </summary>
public class CommittedPdStudentTests
{
    private const int N = 2000;

    private static ToyReport Evaluate(LoadedModel loaded, SamplerOptions options)
    {
        loaded.Model.Eval();
        var toy = ToyDataSource.FromSpec(CheckpointKind.DataSpec(loaded.Metadata)!).Toy;
        return ToyEvaluation.Evaluate(loaded.Net, Edm.FromMetadata(loaded.Metadata), toy, N, options).Report;
    }

    [TestCase("8gaussians", 64, 80.0)]
    [TestCase("checkerboard", 128, 5.0)]
    public void EachStudentSamplesInItsStepsAsWellAsTheTeacherItDistils(string name, int teacherSteps, double sigmaMax)
    {
        string models = RepoFiles.ModelsDir(), teacherPath = Path.Combine(models, $"toy-{name}-teacher.safetensors");
        double teacherSw;
        using (var teacher = ModelFactory.Load(teacherPath))
            teacherSw = Evaluate(teacher, new SamplerOptions(SamplerKind.Euler, teacherSteps, Seed: 3, SigmaMax: sigmaMax)).SlicedWasserstein;
        var schedule = new ProgressiveSchedule(new ProgressiveOptions { TeacherSteps = teacherSteps, SigmaMax = sigmaMax, Steps = 0 });
        foreach (int k in new[] { 8, 4, 2, 1 })
        {
            using var student = ModelFactory.Load(Path.Combine(models, $"toy-{name}-pd-k{k}.safetensors"));
            Assert.That(student.Metadata["method"], Is.EqualTo(ProgressiveDistiller.Method));
            Assert.That(student.Metadata["teacher"], Is.EqualTo($"models/toy-{name}-teacher.safetensors"));
            Assert.That(student.Metadata["teacher_sha256"], Is.EqualTo(FrozenTeacher.FileSha256(teacherPath)));
            var defaults = SamplerDefaults.Of(student.Metadata);
            int round = Enumerable.Range(0, schedule.Rounds).Single(r => schedule.StudentSteps(r) == k);
            Assert.That(defaults is { Kind: SamplerKind.Euler, Steps: var steps } && steps == k, $"K = {k}: Euler with K steps");
            Assert.That(defaults.Sigmas, Is.EqualTo(schedule.StudentLevels(round)).Within(1e-12), "the levels it was trained on");
            var report = Evaluate(student, defaults.ApplyTo(new SamplerOptions(Seed: 3)));
            TestContext.Out.WriteLine($"{name} PD-{k}: SW {report.SlicedWasserstein:F4} ({report.Nfe} NFE), teacher Euler-{teacherSteps} {teacherSw:F4}");
            Assert.That(report.Nfe, Is.EqualTo(k));
            Assert.That(report.SlicedWasserstein, Is.LessThanOrEqualTo(1.5 * teacherSw));
            if (report.Coverage is { } c) Assert.That(c.Covered, Is.EqualTo(c.Total), "every mode covered");
        }
    }
}
