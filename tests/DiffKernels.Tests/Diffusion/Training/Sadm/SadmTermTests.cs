using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Diffusion.Training.Sadm;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Training.Sadm;

public class SadmTermTests
{
    private static readonly SadmOptions Small = new() { Features = 8, EncoderWidths = [16, 16], WarmupSteps = 0 };

    private static Tensor Points(int n, ulong seed) => new ToyDataSource(GaussianMixtureToy.EightGaussians()).Batch(0, n, new Generator(seed)).X;

    [Test]
    public void TheStructureGradientReachesTheDenoiserAndNotTheRealBatch()
    {
        using var scope = Tensor.Scope();
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        using var state = new RunState(net);
        using var term = new SadmTerm(Small, 3, net, new Edm(), new Generator(9), state, Device.Cpu);
        var x0 = Points(16, 2);
        var (predicted, _) = term.Predict(x0, null);
        var real = x0.Detach();
        real.RequiresGrad = true;
        term.Discriminator.DenoiserDistance(real, predicted).Backward();
        Assert.That(real.Grad, Is.Null, "the real batch's structure is a fixed target");
        foreach (var (name, p) in net.NamedParameters())
            Assert.That(p.Grad!.ToArray().Any(v => v != 0), Is.True, name);
    }

    [Test]
    public void AnEncoderStepRaisesTheDistanceOnAFixedPairOfBatches()
    {
        using var scope = Tensor.Scope();
        using var disc = new StructureDiscriminator(new Shape(2), Small with { EncoderLr = 1e-2f }, new Generator(4));
        var real = Points(32, 5);
        var fake = F.Add(real, F.MulScalar(new Generator(6).Normal(real.Shape), 0.3f));
        double before = disc.EncoderDistance(real, fake).Item();
        double loss = disc.Step(new RunUpdate(null), real, fake);
        double after = disc.EncoderDistance(real, fake).Item();
        Assert.That(loss, Is.EqualTo(-before).Within(1e-6 * before), "the encoder's loss is −S");
        Assert.That(after, Is.GreaterThan(before));
        Assert.That(fake.Grad, Is.Null, "the encoder sees SG(x̂)");
    }

    [Test]
    public void TheTermIsWeightedByLambdaWarmedUpTimesCSkip()
    {
        var o = new SadmOptions { Lambda = 0.1, WarmupSteps = 10 };
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        using var state = new RunState(net);
        using var term = new SadmTerm(o, 3, net, new Edm(), new Generator(9), state, Device.Cpu);
        var edm = new Edm();
        Assert.That(term.Weight(4, 0.8), Is.EqualTo(0.1 * 0.5 * 0.8).Within(1e-12), "half-way through the warm-up");
        Assert.That(term.Weight(100, 0.8), Is.EqualTo(0.1 * 0.8).Within(1e-12));
        Assert.That(edm.Coefficients(0.01).CSkip, Is.GreaterThan(0.99), "on at low noise");
        Assert.That(edm.Coefficients(20).CSkip, Is.LessThan(1e-3), "off at high noise");
        using var plain = new SadmTerm(o with { CSkipWeighting = false }, 3, net, edm, new Generator(9), new RunState(net), Device.Cpu);
        Assert.That(plain.Weight(100, 0.8), Is.EqualTo(0.1));
    }

    [Test]
    public void AStepAddsLambdaTimesCSkipOfItsSharedSigmaTimesTheDistance()
    {
        using var scope = Tensor.Scope();
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        using var state = new RunState(net);
        var noise = new Generator(9, 40);
        var edm = new Edm();
        using var term = new SadmTerm(Small with { Lambda = 0.5 }, 3, net, edm, noise, state, Device.Cpu);
        // The step draws its σ first from the noise stream, so a copy of the stream gives it.
        double sigma = Math.Exp(new Generator(9, 40).Normal([1], Device.Cpu, (float)edm.PMean, (float)edm.PStd).ToArray()[0]);
        var x0 = Points(16, 2);
        var adam = new DiffKernels.Optim.Adam(net.Parameters(), 1e-3f);
        bool applied = false;
        var values = term.Step(new RunUpdate(null), 0, x0, null, edm.Loss(net, x0, null, new Generator(11)), adam, () => applied = true);
        Assert.That(applied, Is.True);
        Assert.That(values[2] - values[0], Is.EqualTo(0.5 * edm.Coefficients(sigma).CSkip * values[1]).Within(1e-5));
        Assert.That(values[3], Is.EqualTo(-values[1]).Within(1e-6), "the encoder's loss on the same pair");
        Assert.That(term.Lambda, Is.EqualTo(0.5));
        adam.Dispose();
    }

    [Test]
    public void OptionsRoundTripAndAPlainRunStoresNoSadmKey()
    {
        var plain = new TrainerOptions();
        Assert.That(plain.ToJson(), Does.Not.Contain("sadm"));
        var sadm = plain with { Sadm = new SadmOptions { Distance = SadmDistance.Squared, SharedSigma = false, EncoderWidths = [8, 4] } };
        Assert.That(TrainerOptions.FromJson(sadm.ToJson()), Is.EqualTo(sadm));
        Assert.That(TrainerOptions.FromJson(sadm.ToJson()), Is.Not.EqualTo(sadm with { Sadm = sadm.Sadm! with { EncoderWidths = [8, 8] } }));
    }

    private static IEnumerable<TestCaseData> Networks()
    {
        yield return new TestCaseData((Func<Generator, INoiseNet>)(g => new UNet(TinyModels.TinyUNet, g))).SetName("UNet");
        yield return new TestCaseData((Func<Generator, INoiseNet>)(g => new DiT(new DiTConfig(8, 1, 2, 16, 1, 2, TimeFeatures: 8, NumClasses: 3), g))).SetName("DiT");
    }

    [TestCaseSource(nameof(Networks))]
    public void TrainsAnImageDenoiser(Func<Generator, INoiseNet> make)
    {
        var options = new TrainerOptions { Steps = 2, BatchSize = 6, LogEvery = 1, CheckpointEvery = 0, Sadm = Small with { EncoderWidths = [4, 8] } };
        using var trainer = new EdmTrainer((DiffKernels.Nn.Module)make(new Generator(1)), TinyModels.TinyImages(), options);
        var losses = new List<double[]>();
        var result = trainer.Run(progress: p => losses.Add(p.Values.ToArray()));
        Assert.That((result.Step, result.Skipped), Is.EqualTo((2L, 0L)));
        Assert.That(losses.SelectMany(v => v), Is.All.Matches<double>(double.IsFinite));
        Assert.That(losses[^1][1], Is.GreaterThan(0), "a structural distance");
    }
}
