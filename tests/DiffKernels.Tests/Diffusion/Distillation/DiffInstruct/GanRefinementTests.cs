using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Diffusion.Models;

namespace DiffKernels.Tests.Diffusion.Distillation.DiffInstruct;

/// <summary>Diff-Instruct as a refiner of a generator that is not a denoiser: latents of another width, its own network.</summary>
public class GanRefinementTests
{
    /// <summary>A GAN-like 2D generator: z [4] → Linear(32) → LeakyReLU → Linear(2); nothing ties it to the teacher.</summary>
    private sealed class MlpGenerator : Module, IGenerator
    {
        private readonly Linear _hidden;
        private readonly Linear _out;

        public MlpGenerator(Generator gen)
        {
            _hidden = RegisterModule("hidden", new Linear(4, 32, gen: gen));
            _out = RegisterModule("out", new Linear(32, 2, gen: gen));
        }

        public Module Module => this;

        public Shape LatentShape => [4];

        public Shape SampleShape => [2];

        public int NumClasses => 0;

        public Tensor Generate(Tensor z, Tensor? labels) => _out.Forward(F.LeakyRelu(_hidden.Forward(z)));

        public IReadOnlyDictionary<string, string> SamplingMetadata => new Dictionary<string, string>();
    }

    [Test]
    public void RefiningAnUntrainedGeneratorOnTheEightGaussiansTeacherLowersSlicedWasserstein()
    {
        var data = GaussianMixtureToy.EightGaussians().Sample(4000, new Generator(77));
        var teacher = FrozenTeacher.Load(Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors"));
        using var d = DiffInstructDistiller.FromGenerator(teacher, new MlpGenerator(new Generator(3)),
            new DiffInstructOptions { Steps = 150, BatchSize = 128, GeneratorLr = 3e-3f, AuxiliaryLr = 1e-3f, EmaHalfLifeSamples = 2_000, Seed = 1 });
        double Sw()
        {
            using var scope = Tensor.Scope();
            return ToyMetrics.SlicedWasserstein(d.SampleEma(4000, 5).ToArray(), data, seed: 9);
        }
        double before = Sw();
        d.Run();
        double after = Sw();
        TestContext.Out.WriteLine($"refined generator SW {before:F4} → {after:F4}");
        Assert.That(after, Is.LessThan(before / 2), $"sliced Wasserstein {before} → {after}");
    }

    [Test]
    public void AGeneratorWithOtherSamplesOrClassesThanTheTeacherIsRejected()
    {
        var teacher = FrozenTeacher.Load(Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors"));
        using var image = new GanGenerator(TinyModels.Gan(), new Generator(1));
        try
        {
            Assert.That(() => DiffInstructDistiller.FromGenerator(teacher, image, new DiffInstructOptions()),
                Throws.ArgumentException.With.Message.Contains("must agree"));
        }
        finally
        {
            teacher.Dispose();
        }
    }
}
