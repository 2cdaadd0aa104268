using DiffKernels.Backends;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Diffusion.Training.Sadm;
using DiffKernels.Gpu.Checks;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// The op matrix reaches every member of the backend contract, so no GPU kernel goes unchecked; and what a real
/// training step and a real distillation iteration call is the fused schedule path, every member of it in the matrix.
/// </summary>
public class CoverageTests
{
    /// <summary>The backend members the op matrix calls, each case checked against the CPU reference on the way.</summary>
    private static HashSet<string> OpMatrixMembers(IBackend backend)
    {
        var recorder = new RecordingBackend(backend);
        var device = new Device("recording", recorder);
        foreach (var c in OpMatrix.All)
        {
            var r = OpMatrixRunner.Run(c, device);
            Assert.That(r.Passed, Is.True, r.ToString());
        }
        return recorder.Called;
    }

    [Test]
    public void EveryBackendMemberIsExercised()
    {
        var members = typeof(IBackend).GetMethods().Where(m => !m.IsSpecialName).Select(m => m.Name).ToHashSet();
        members.ExceptWith(OpMatrixMembers(Emulator.Backend));
        Assert.That(members, Is.Empty, "backend members no op case reaches");
    }

    [Test]
    public void TrainingAndDistillationRunOnTheFusedScheduleOps()
    {
        var recorder = new RecordingBackend(Device.Cpu.Backend);
        var device = new Device("recording", recorder);

        using (var trainer = new EdmTrainer(new Mlp(new MlpConfig(Hidden: 16), new Generator(1), device),
            new ToyDataSource(GaussianMixtureToy.EightGaussians()), new TrainerOptions { Steps = 1, BatchSize = 8, CheckpointEvery = 0, Seed = 2 }))
            trainer.Run();
        var training = recorder.Called.ToHashSet();
        Assert.That(training, Does.Contain(nameof(IBackend.EdmTrainingInputs)), "an EDM training step");
        // A SADM step adds the structure batch, the encoder and the affinities: ops the matrix must check too.
        using (var sadm = new EdmTrainer(new Mlp(new MlpConfig(Hidden: 16), new Generator(1), device), new ToyDataSource(GaussianMixtureToy.EightGaussians()),
            new TrainerOptions { Steps = 1, BatchSize = 8, CheckpointEvery = 0, Seed = 2, Sadm = new SadmOptions { Features = 4, EncoderWidths = [8] } }))
            sadm.Run();
        training.UnionWith(recorder.Called);

        recorder.Called.Clear();
        var edm = new Edm();
        var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1), device), edm);
        using (var distiller = new DiffInstructDistiller(teacher, new OneStepGenerator(new Mlp(new MlpConfig(Hidden: 16), new Generator(2), device), edm),
            new Mlp(new MlpConfig(Hidden: 16), new Generator(3), device), new DiffInstructOptions { Steps = 1, BatchSize = 8, CheckpointEvery = 0, Seed = 3 }))
            distiller.Run();
        var distillation = recorder.Called.ToHashSet();
        string[] fused = [nameof(IBackend.EdmTrainingInputs), nameof(IBackend.EdmDenoise), nameof(IBackend.EdmDenoiseUniform), nameof(IBackend.ScoreDifference)];
        Assert.That(fused.Where(m => !distillation.Contains(m)), Is.Empty, "schedule ops a Diff-Instruct iteration does not call");

        var recorded = training.Union(distillation).ToHashSet();
        recorded.ExceptWith(OpMatrixMembers(Device.Cpu.Backend));
        Assert.That(recorded, Is.Empty, "backend members a real run calls that no op case checks");
    }
}
