using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Dmd2;

/// <summary>DMD2's optional GAN head: its shapes on both kinds of bottleneck, the gradient paths and the data it needs.</summary>
public class Dmd2GanHeadTests
{
    private static float[] Weights(Module m) => m.StateDict().Values.SelectMany(t => t.ToArray()).ToArray();

    [Test]
    public void TheHeadReadsAUNetBottleneckAndAnMlpsHiddenLayerAndItsGradientReachesTheInput()
    {
        using var unet = new UNet(new UNetConfig(8, 1, 4, [1, 2], 1, [], Groups: 2, TimeFeatures: 8, EmbedDim: 16, NumClasses: 3), new Generator(4));
        using var mlp = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        foreach (var (net, features) in new (IBottleneckFeatures, Shape)[] { (unet, new Shape(4, 4, 8)), (mlp, new Shape(16)) })
        {
            Assert.That(Dmd2GanHead.FeaturesOf(net, Device.Cpu), Is.EqualTo(features));
            using var head = new Dmd2GanHead(features, new Generator(2));
            using var scope = Tensor.Scope();
            var rng = new Generator(3);
            var x = rng.Normal([5, .. net.SampleShape]);
            x.RequiresGrad = true;
            var labels = net.NumClasses > 0 ? Tensor.FromSpan(new float[] { 0, 1, 2, 0, 1 }, [5]) : null;
            var logits = head.Logits(net, 0.5, x, Tensor.Full([5], 0.7f), rng.Normal(x.Shape), labels);
            Assert.That(logits.Shape, Is.EqualTo(new Shape(5)));
            logits.Backward(Tensor.Full([5], 1f));
            Assert.That(x.Grad!.ToArray().Any(v => v != 0), $"{net.GetType().Name}: the logits depend on the input");
            Assert.That(head.Parameters().All(p => p.Grad != null), "every head parameter gets a gradient");
        }
    }

    [Test]
    public void WithTheHeadTheStudentFeelsTheAdversarialLossAndTheHeadTrains()
    {
        float[] Student(float weight, out float[] headBefore, out float[] headAfter)
        {
            var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm());
            var options = new Dmd2Options { Steps = 2, BatchSize = 16, Gan = true, GanGeneratorWeight = weight, GeneratorLr = 1e-3f, FakeLr = 1e-3f, Seed = 2 };
            using var d = new Dmd2Distiller(teacher, new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)),
                options, data: new ToyDataSource(GaussianMixtureToy.EightGaussians()));
            headBefore = Weights(d.GanHead!);
            d.Run();
            headAfter = Weights(d.GanHead!);
            return Weights(d.Student.Module);
        }
        var without = Student(0f, out _, out _);
        var with = Student(3e-3f, out var before, out var after);
        Assert.That(with, Is.Not.EqualTo(without), "the adversarial loss moves the student");
        Assert.That(after, Is.Not.EqualTo(before), "the head learns");
    }

    [Test]
    public void TheHeadNeedsDataAndDataNeedsTheHead()
    {
        Dmd2Distiller Build(bool gan, bool data) => new(new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm()),
            new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)),
            new Dmd2Options { Steps = 1, BatchSize = 4, Gan = gan }, data: data ? new ToyDataSource(GaussianMixtureToy.EightGaussians()) : null);
        Assert.That(() => Build(true, false), Throws.ArgumentException.With.Message.Contains("the GAN head needs real data"));
        Assert.That(() => Build(false, true), Throws.ArgumentException.With.Message.Contains("data-free"));
    }
}
