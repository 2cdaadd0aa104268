using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Gpu.Checks;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// Progressive distillation on the GPU backend (emulator) lands where the CPU does: three updates that cross a teacher
/// swap, with dynamic x0 thresholding in the targets (the fused target and threshold kernels), within the tolerances of
/// <see cref="DeviceParityTests"/>; the round's student written there samples on the CPU.
/// </summary>
public class ProgressiveParityTests
{
    private static (double Loss, float[] Student, float[] Teacher) Run(Device device)
    {
        using var dir = new TempDir();
        var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1), device), new Edm());
        var options = new ProgressiveOptions
        {
            TeacherSteps = 4, StepsPerRound = 2, Steps = 3, BatchSize = 16, Lr = 1e-3f, Threshold = 0.9f, CheckpointEvery = 0, PreviewSamples = 0, Seed = 3,
        };
        using var pd = ProgressiveDistiller.FromTeacher(teacher, new ToyDataSource(GaussianMixtureToy.EightGaussians()), options, dir.Path);
        RunProgress last = default;
        pd.Run(progress: p => last = p);
        using (var student = PretrainedModel.Load(Path.Combine(dir.Path, pd.RoundCheckpointFile(0)), Device.Cpu))
            Assert.That(student.Generate(4, seed: 2).All(float.IsFinite));
        return (last["loss"], pd.Student.Parameters().SelectMany(p => p.ToArray()).ToArray(), ((DiffKernels.Nn.Module)pd.Teacher.Net).Parameters().SelectMany(p => p.ToArray()).ToArray());
    }

    [Test]
    public void ThreeUpdatesAcrossATeacherSwapMatchTheCpu()
    {
        var cpu = Run(Device.Cpu);
        var gpu = Run(Emulator.Backend.Device);
        TestContext.Out.WriteLine($"loss {cpu.Loss} vs {gpu.Loss}; student {OpMatrixRunner.NormalisedError(gpu.Student, cpu.Student):0.00e+00}, teacher {OpMatrixRunner.NormalisedError(gpu.Teacher, cpu.Teacher):0.00e+00}");
        Assert.That(Math.Abs(gpu.Loss - cpu.Loss), Is.LessThanOrEqualTo(1e-5 * Math.Abs(cpu.Loss)));
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Student, cpu.Student), Is.LessThanOrEqualTo(1e-8));
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Teacher, cpu.Teacher), Is.LessThanOrEqualTo(1e-8));
    }
}
