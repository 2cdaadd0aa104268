using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Gpu.Checks;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Diffusion.Models;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// Training (EDM and GAN), distillation and sampling run whole on the GPU backend (emulator) and land where the CPU backend
/// does, from the same seeds. Errors are <see cref="OpMatrixRunner.NormalisedError"/> (squared relative RMS):
/// weights, EMA and samples within <see cref="Weights"/> = 1e-8 (relative RMS 1e-4), the losses within a relative
/// 1e-5, and Adam's first update of the UNet (w₁ − w₀, about ±lr per entry, and its EMA's) within
/// <see cref="Update"/> = 1e-4 (relative RMS 1e-2), which leaves room for entries whose gradient is so close to
/// zero (near Adam's ε) that their step differs between backends.
/// A checkpoint moves between devices bit for bit.
/// </summary>
public class DeviceParityTests
{
    private const double Weights = 1e-8;
    private const double Update = 1e-4;
    private const double LossRelative = 1e-5;

    private static Device Gpu => Emulator.Backend.Device;

    private static float[] Flat(IEnumerable<Tensor> tensors) => tensors.SelectMany(t => t.ToArray()).ToArray();

    private static ImageDataSource TinyImages()
    {
        float[] images;
        using (Tensor.Scope()) images = F.Clamp(new Generator(5).Normal([8, 8, 8, 1], Device.Cpu, 0, 0.5f), -1, 1).ToArray();
        return new ImageDataSource(new ImageDataset(images, [0, 1, 2, 3, 4, 5, 6, 7], 8, 8, 1, 10), "tiny");
    }

    private static (float Loss, float[] Before, float[] After, float[] Ema) UNetStep(Device device)
    {
        var net = new UNet(UNetConfig.XS(numClasses: 10) with { ImageSize = 8 }, new Generator(7), device);
        // The zero-initialised output layers would leave every gradient upstream of them zero.
        var gen = new Generator(11);
        using (Tensor.NoGrad())
            foreach (var p in net.Parameters()) F.AddInPlace(p, gen.Normal(p.Shape, device, std: 0.05f));
        var before = Flat(net.Parameters());
        var options = new TrainerOptions { Steps = 1, BatchSize = 2, Lr = 1e-3f, WarmupSteps = 0, LabelDropout = 0.5, CheckpointEvery = 0, Seed = 2 };
        using var trainer = new EdmTrainer(net, TinyImages(), options);
        float loss = float.NaN;
        trainer.Run(progress: p => loss = (float)p["loss"]);
        return (loss, before, Flat(net.Parameters()), Flat(trainer.EmaWeights.Values));
    }

    [Test]
    public void AUNetXsEdmTrainingStepMatchesTheCpu()
    {
        var cpu = UNetStep(Device.Cpu);
        var gpu = UNetStep(Gpu);
        // Adam's first step moves every entry by about ±lr whatever its gradient's size, so the updates, not the
        // weights they are small beside, are what can tell the two backends apart.
        float[] Moved(float[] after, float[] before) => after.Zip(before, (a, b) => a - b).ToArray();
        var cpuUpdate = Moved(cpu.After, cpu.Before);
        double update = OpMatrixRunner.NormalisedError(Moved(gpu.After, gpu.Before), cpuUpdate);
        double ema = OpMatrixRunner.NormalisedError(Moved(gpu.Ema, gpu.Before), Moved(cpu.Ema, cpu.Before));
        TestContext.Out.WriteLine($"loss {cpu.Loss} vs {gpu.Loss}; update {update:0.00e+00}, EMA update {ema:0.00e+00}");
        // The device runs Box–Muller on Philox's uniforms in float (DeviceMath's log and sin/cos), the CPU in double,
        // so the two initialisations agree to float rounding of the weights' scale, not bit for bit (a normal near
        // zero, r·cos θ with cos θ small, differs by many of its own ulps).
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Before, cpu.Before), Is.LessThanOrEqualTo(1e-6), "Philox initialises both devices alike");
        Assert.That(cpuUpdate.Count(v => v != 0), Is.GreaterThan(cpuUpdate.Length / 2), "the step moves most weights");
        Assert.That(Math.Abs(gpu.Loss - cpu.Loss), Is.LessThanOrEqualTo(LossRelative * Math.Abs(cpu.Loss)));
        Assert.That(update, Is.LessThanOrEqualTo(Update));
        Assert.That(ema, Is.LessThanOrEqualTo(Update));
    }

    private static (double AuxLoss, double Gap, float[] Generator, float[] Auxiliary) DiffInstructIteration(Device device)
    {
        using var dir = new TempDir();
        var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1), device), new Edm());
        var options = new DiffInstructOptions { Steps = 1, BatchSize = 16, GeneratorLr = 1e-3f, AuxiliaryLr = 1e-3f, CheckpointEvery = 0, PreviewSamples = 0, Seed = 3 };
        using var distiller = DiffInstructDistiller.FromTeacher(teacher, options, outDir: dir.Path);
        RunProgress last = default;
        var run = distiller.Run(progress: p => last = p);
        // The student checkpoint written from this device samples on the CPU.
        using (var student = PretrainedModel.Load(run.CheckpointPath!, Device.Cpu))
            Assert.That(student.Generate(4, seed: 2).All(float.IsFinite));
        var result = (last["aux_loss"], last["score_gap"], Flat(distiller.Generator.Module.Parameters()), Flat(distiller.Auxiliary.Parameters()));
        ((Module)teacher.Net).Dispose();
        return result;
    }

    [Test]
    public void ADiffInstructIterationMatchesTheCpu()
    {
        var cpu = DiffInstructIteration(Device.Cpu);
        var gpu = DiffInstructIteration(Gpu);
        TestContext.Out.WriteLine($"aux loss {cpu.AuxLoss} vs {gpu.AuxLoss}, score gap {cpu.Gap} vs {gpu.Gap}");
        Assert.That(Math.Abs(gpu.AuxLoss - cpu.AuxLoss), Is.LessThanOrEqualTo(LossRelative * Math.Abs(cpu.AuxLoss)));
        Assert.That(Math.Abs(gpu.Gap - cpu.Gap), Is.LessThanOrEqualTo(LossRelative * Math.Abs(cpu.Gap)));
        TestContext.Out.WriteLine($"generator {OpMatrixRunner.NormalisedError(gpu.Generator, cpu.Generator):0.00e+00}, auxiliary {OpMatrixRunner.NormalisedError(gpu.Auxiliary, cpu.Auxiliary):0.00e+00}");
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Generator, cpu.Generator), Is.LessThanOrEqualTo(Weights));
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Auxiliary, cpu.Auxiliary), Is.LessThanOrEqualTo(Weights));
    }

    private static (double DLoss, double GLoss, float[] Generator, float[] Discriminator) GanIteration(Device device)
    {
        var config = TinyModels.Gan(classes: 2);
        using var trainer = new GanTrainer(new GanGenerator(config, new Generator(1), device), new GanDiscriminator(config, new Generator(2), device),
            new TwoLevelImages(), new GanOptions { Steps = 1, BatchSize = 4, CheckpointEvery = 0, PreviewSamples = 0 });
        RunProgress last = default;
        trainer.Run(progress: p => last = p);
        return (last["d_loss"], last["g_loss"], Flat(trainer.Generator.Parameters()), Flat(trainer.Discriminator.Parameters()));
    }

    [Test]
    public void AGanIterationMatchesTheCpu()
    {
        var cpu = GanIteration(Device.Cpu);
        var gpu = GanIteration(Gpu);
        TestContext.Out.WriteLine($"D loss {cpu.DLoss} vs {gpu.DLoss}, G loss {cpu.GLoss} vs {gpu.GLoss}; generator {OpMatrixRunner.NormalisedError(gpu.Generator, cpu.Generator):0.00e+00}, discriminator {OpMatrixRunner.NormalisedError(gpu.Discriminator, cpu.Discriminator):0.00e+00}");
        Assert.That(Math.Abs(gpu.DLoss - cpu.DLoss), Is.LessThanOrEqualTo(LossRelative * Math.Abs(cpu.DLoss)));
        Assert.That(Math.Abs(gpu.GLoss - cpu.GLoss), Is.LessThanOrEqualTo(LossRelative * Math.Abs(cpu.GLoss)));
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Generator, cpu.Generator), Is.LessThanOrEqualTo(Weights));
        Assert.That(OpMatrixRunner.NormalisedError(gpu.Discriminator, cpu.Discriminator), Is.LessThanOrEqualTo(Weights));
    }

    private static float[] Heun(Device device)
    {
        using var model = PretrainedModel.Load(Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors"), device);
        using var scope = Tensor.Scope();
        var result = model.Sample(32, seed: 4, options: new SamplerOptions(Steps: 4, BatchSize: 32));
        Assert.That(result.Samples.Device, Is.SameAs(device), "samples stay on the model's device");
        return result.Samples.ToArray();
    }

    [Test]
    public void AHeunSampleMatchesTheCpu()
    {
        var cpu = Heun(Device.Cpu);
        var gpu = Heun(Gpu);
        Assert.That(cpu.All(float.IsFinite) && cpu.Any(v => Math.Abs(v) > 0.5f), "the CPU draws real samples");
        TestContext.Out.WriteLine($"samples {OpMatrixRunner.NormalisedError(gpu, cpu):0.00e+00}");
        Assert.That(OpMatrixRunner.NormalisedError(gpu, cpu), Is.LessThanOrEqualTo(Weights));
    }

    [Test]
    public void ACheckpointSavedOnTheEmulatorLoadsOnTheCpuAndBackBitForBit()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        float[] saved;
        using (var net = new UNet(UNetConfig.XS(numClasses: 10) with { ImageSize = 8 }, new Generator(9), Gpu))
        {
            ModelFactory.Save(path, net);
            saved = Flat(net.StateDict().Values);
        }
        using (var onCpu = ModelFactory.Load(path, Device.Cpu))
        {
            Assert.That(onCpu.Model.Parameters().All(p => p.Device == Device.Cpu));
            Assert.That(Flat(onCpu.Model.StateDict().Values), Is.EqualTo(saved));
        }
        using var onGpu = ModelFactory.Load(path, Gpu);
        Assert.That(onGpu.Model.Parameters().All(p => p.Device == Gpu));
        Assert.That(Flat(onGpu.Model.StateDict().Values), Is.EqualTo(saved));
    }

    [Test]
    public void ACpuTrainingCheckpointResumesOnTheEmulator()
    {
        using var dir = new TempDir();
        var data = new ToyDataSource(ToyDistribution.FromName("8gaussians"));
        var options = new TrainerOptions { Steps = 2, BatchSize = 16, WarmupSteps = 0, CheckpointEvery = 0, Seed = 1 };
        using (var first = new EdmTrainer(new Mlp(new MlpConfig(Hidden: 16), new Generator(2)), data, options, dir.Path))
            first.Run();
        float[] Continue(Device device)
        {
            using var trainer = EdmTrainer.Resume(Path.Combine(dir.Path, EdmTrainer.CheckpointFile), data, steps: 3, outDir: dir.File(device.Name), device: device);
            Assert.That(trainer.Model.Parameters().All(p => p.Device == device));
            trainer.Run();
            return Flat(trainer.Model.Parameters().Concat(trainer.EmaWeights.Values));
        }
        var cpu = Continue(Device.Cpu);
        var gpu = Continue(Gpu);
        TestContext.Out.WriteLine($"weights and EMA after the resumed step {OpMatrixRunner.NormalisedError(gpu, cpu):0.00e+00}");
        Assert.That(OpMatrixRunner.NormalisedError(gpu, cpu), Is.LessThanOrEqualTo(Weights));
    }
}
