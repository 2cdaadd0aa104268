using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Diffusion.Distillation.Ddil.DdilInputsTests;

namespace DiffKernels.Tests.Diffusion.Distillation.Ddil;

/// <summary>The student-rollout replay buffer: when it rolls out again, and that every draw re-noises with fresh noise.</summary>
public class ReplayBufferTests
{
    private static double[] Column(float[] x, int d) => Enumerable.Range(0, x.Length / 2).Select(i => (double)x[2 * i + d]).ToArray();

    [Test]
    public void ItRollsOutAtItsFirstUseThenAfterEachRefreshIntervalOrWhenTheLevelsChange()
    {
        var mean = new[] { 1.0, -2.0 };
        var student = new DiagonalGaussianDenoiser(new Edm(), () => mean, () => [0.01, 0.01]);
        var b = new GaussianBase(renoises: true, student: student);
        var inputs = new DdilInputs(Only(0, 0, 1) with { BufferSize = 16, RefreshEvery = 3 }, b, [2], 0, seed: 1);
        const int n = 200;
        double MeanAt(long step)
        {
            using var scope = Tensor.Scope();
            return Column(inputs.Draw(step, Enumerable.Repeat(3, n).ToArray(), Tensor.Zeros([n, 2]), null).X.ToArray(), 0).Average();
        }
        Assert.That(inputs.Buffer.FilledAt, Is.EqualTo(-1));
        Assert.That(MeanAt(0), Is.EqualTo(1).Within(0.05));
        Assert.That(inputs.Buffer.FilledAt, Is.EqualTo(0));
        mean[0] = 5;
        Assert.That(MeanAt(2), Is.EqualTo(1).Within(0.05), "within the interval the buffer keeps the old student's rollouts");
        Assert.That(inputs.Buffer.FilledAt, Is.EqualTo(0));
        Assert.That(MeanAt(3), Is.EqualTo(5).Within(0.05), "after it, the current student's");
        Assert.That(inputs.Buffer.FilledAt, Is.EqualTo(3));
        mean[0] = -4;
        b.StudentLevels = [80, 3, 0.5, 0.2];
        Assert.That(MeanAt(4), Is.EqualTo(-4).Within(0.05), "new levels (a new PD round) roll out again at once");
        Assert.That(inputs.Buffer.FilledAt, Is.EqualTo(4));
    }

    [Test]
    public void EveryDrawReNoisesAStoredEstimateWithFreshNoise()
    {
        // One stored rollout: every input at step k is that estimate plus σ_k times fresh noise, so draws share their
        // mean but not their values, and their spread is exactly σ_k.
        var b = new GaussianBase(renoises: true);
        var inputs = new DdilInputs(Only(0, 0, 1) with { BufferSize = 1, RefreshEvery = 100 }, b, [2], 0, seed: 2);
        const int n = 4000, k = 2;
        var first = inputs.Draw(0, Enumerable.Repeat(k, n).ToArray(), Tensor.Zeros([n, 2]), null).X.ToArray();
        var second = inputs.Draw(1, Enumerable.Repeat(k, n).ToArray(), Tensor.Zeros([n, 2]), null).X.ToArray();
        Assert.That(second, Is.Not.EqualTo(first));
        double sigma = Levels[k];
        for (int d = 0; d < 2; d++)
        {
            double m1 = Column(first, d).Average(), m2 = Column(second, d).Average();
            Assert.That(m2, Is.EqualTo(m1).Within(6 * sigma / Math.Sqrt(n)), "the same stored estimate");
            double sd = Math.Sqrt(Column(first, d).Select(v => (v - m1) * (v - m1)).Average());
            Assert.That(sd, Is.EqualTo(sigma).Within(0.05 * sigma), "fresh noise of scale σ_k");
        }
        // Inputs of the same draw at different steps from the one rollout are not the same noise scaled: their correlation is ~0.
        var pair = inputs.Draw(2, Enumerable.Range(0, n).Select(i => i % 2 == 0 ? 1 : 2).ToArray(), Tensor.Zeros([n, 2]), null).X.ToArray();
        var a = Enumerable.Range(0, n / 2).Select(i => (double)pair[4 * i]).ToArray();
        var c = Enumerable.Range(0, n / 2).Select(i => (double)pair[4 * i + 2]).ToArray();
        double ma = a.Average(), mc = c.Average();
        double corr = a.Zip(c, (x, y) => (x - ma) * (y - mc)).Sum() / Math.Sqrt(a.Sum(x => (x - ma) * (x - ma)) * c.Sum(y => (y - mc) * (y - mc)));
        Assert.That(Math.Abs(corr), Is.LessThan(6 / Math.Sqrt(n / 2.0)));
    }

    [Test]
    public void AStepZeroDrawIsPureNoiseAtTheFirstLevel()
    {
        var inputs = new DdilInputs(Only(0, 0, 1) with { BufferSize = 8 }, new GaussianBase(renoises: true), [2], 0, seed: 3);
        const int n = 4000;
        var x = inputs.Draw(0, new int[n], Tensor.Zeros([n, 2]), null).X.ToArray();
        var col = Column(x, 1);
        double m = col.Average();
        Assert.That(m, Is.EqualTo(0).Within(5 * Levels[0] / Math.Sqrt(n)));
        Assert.That(Math.Sqrt(col.Select(v => (v - m) * (v - m)).Average()), Is.EqualTo(Levels[0]).Within(0.05 * Levels[0]));
    }

    [Test]
    public void ItRecordsItselfOnlyOnceFilledAndCannotBeDrawnFromBefore()
    {
        var options = Only(0, 0, 1) with { BufferSize = 8 };
        var buffer = new ReplayBuffer(options, [2], 0);
        Assert.That(() => buffer.Draw([1], Levels, new Generator(0), Device.Cpu), Throws.InvalidOperationException.With.Message.Contains("before its first rollout"));
        var empty = new CheckpointWriter();
        buffer.Save(empty);
        Assert.That(empty.Metadata, Is.Empty);
        Assert.That(empty.Tensors, Is.Empty);
        buffer.Refresh(new GaussianBase(renoises: true), 7, new Generator(1), Device.Cpu);
        var filled = new CheckpointWriter();
        buffer.Save(filled);
        Assert.That(filled.Metadata[CheckpointKeys.DdilBufferStep], Is.EqualTo("7"));
        Assert.That(filled.Tensors.Keys, Is.EquivalentTo(new[] { CheckpointKeys.DdilBuffer + "0", CheckpointKeys.DdilBuffer + "1", CheckpointKeys.DdilBuffer + "2" }));
        Assert.That(filled.Tensors[CheckpointKeys.DdilBuffer + "0"].Shape, Is.EqualTo(new Shape(8, 2)));
    }
}
