using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Nn;

/// <summary>End to end: modules, autograd and Adam fit a small nonlinear regression.</summary>
public class MlpRegressionTests
{
    private const int Points = 256;
    private const int Steps = 400;
    private const float Lr = 0.03f;

    /// <summary>y = sin(2x₁)·cos(x₂) on 256 points of [−2, 2]²; its variance there is about 0.23.</summary>
    private static (float[] X, float[] Y) Data()
    {
        var rng = new System.Random(11);
        var x = new float[Points * 2];
        var y = new float[Points];
        for (int i = 0; i < Points; i++)
        {
            x[2 * i] = (float)(rng.NextDouble() * 4 - 2);
            x[2 * i + 1] = (float)(rng.NextDouble() * 4 - 2);
            y[i] = (float)(Math.Sin(2 * x[2 * i]) * Math.Cos(x[2 * i + 1]));
        }
        return (x, y);
    }

    private static float[] Train(ulong seed)
    {
        var (xs, ys) = Data();
        var gen = new Generator(seed);
        using var mlp = new Sequential(new Linear(2, 64, gen: gen), Activation.Silu(), new Linear(64, 1, gen: gen));
        using var opt = new Adam(mlp.Parameters(), lr: Lr);
        var schedule = LrSchedule.Cosine(Lr, warmupSteps: 10, totalSteps: Steps, floor: Lr / 10);
        var losses = new float[Steps];
        using var data = Tensor.Scope();
        var x = Tensor.FromArray(xs, Points, 2);
        var y = Tensor.FromArray(ys, Points, 1);
        for (int step = 0; step < Steps; step++)
        {
            using var scope = Tensor.Scope();
            opt.ZeroGrad();
            var loss = F.MseLoss(mlp.Forward(x), y);
            loss.Backward();
            opt.Lr = schedule.At(step);
            opt.Step();
            losses[step] = loss.Item();
        }
        return losses;
    }

    [Test]
    public void TwoLayerMlpFitsTheTargetWithAdam()
    {
        var (_, ys) = Data();
        double mean = ys.Average(), variance = ys.Select(v => (v - mean) * (v - mean)).Average();
        Assert.That(variance, Is.InRange(0.15, 0.3), "the threshold below is relative to this spread");

        var losses = Train(seed: 1);
                // Seeds 1–5 end between 0.004 and 0.008; a broken gradient or optimiser stays near 0.2.
        Assert.That(losses[^1], Is.LessThan(0.01f), "final MSE");
        Assert.That(losses[^1], Is.LessThan(losses[0] / 10));

        // Bit-identical for the same seed; another seed starts elsewhere.
        Assert.That(Train(seed: 1), Is.EqualTo(losses));
        Assert.That(Train(seed: 2)[0], Is.Not.EqualTo(losses[0]));
    }
}
