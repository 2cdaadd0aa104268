using DiffKernels.Diffusion.Training.Sadm;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Training.Sadm;

public class StructuralDistanceTests
{
    private const double Tau = 0.1;

    private static Tensor Unit(ulong seed, int b = 6, int d = 4) => StructuralDistance.Normalise(new Generator(seed).Normal([b, d]));

    private static double S(Tensor real, Tensor fake, SadmDistance distance) => StructuralDistance.Compute(real, fake, distance, Tau).Item();

    private static Tensor Rows(Tensor x, int[] order)
    {
        var v = x.ToArray();
        int d = x.Shape[1];
        var permuted = order.SelectMany(i => v.Skip(i * d).Take(d)).ToArray();
        return Tensor.FromSpan(permuted, x.Shape);
    }

    [TestCase(SadmDistance.Kl)]
    [TestCase(SadmDistance.Squared)]
    public void IsZeroForIdenticalBatchesPositiveOtherwiseAndBlindToOnePermutationOfBoth(SadmDistance distance)
    {
        using var scope = Tensor.Scope();
        var real = Unit(1);
        var fake = Unit(2);
        Assert.That(S(real, real, distance), Is.EqualTo(0));
        double s = S(real, fake, distance);
        Assert.That(s, Is.GreaterThan(1e-3));
        int[] order = [3, 0, 5, 1, 4, 2];
        Assert.That(S(Rows(real, order), Rows(fake, order), distance), Is.EqualTo(s).Within(1e-5 * s));
        Assert.That(S(Rows(real, order), fake, distance), Is.Not.EqualTo(s).Within(1e-3 * s), "permuting one batch alone changes it");
    }

    [Test]
    public void NormalisedFeaturesHaveUnitLength()
    {
        using var scope = Tensor.Scope();
        var h = Unit(3).ToArray();
        for (int i = 0; i < 6; i++) Assert.That(Math.Sqrt(h.Skip(i * 4).Take(4).Sum(v => (double)v * v)), Is.EqualTo(1).Within(1e-6));
    }

    // S in double from raw features: normalise, affinities, masked row softmax, KL or squared difference.
    private static double Reference(double[] real, double[] fake, int b, int d, SadmDistance distance)
    {
        double[,] Affinities(double[] h)
        {
            var u = new double[b * d];
            for (int i = 0; i < b; i++)
            {
                double norm = Math.Sqrt(Enumerable.Range(0, d).Sum(k => h[i * d + k] * h[i * d + k]));
                for (int k = 0; k < d; k++) u[i * d + k] = h[i * d + k] / norm;
            }
            var a = new double[b, b];
            for (int i = 0; i < b; i++)
                for (int j = 0; j < b; j++) a[i, j] = Enumerable.Range(0, d).Sum(k => u[i * d + k] * u[j * d + k]);
            return a;
        }
        var ar = Affinities(real);
        var af = Affinities(fake);
        double total = 0;
        for (int i = 0; i < b; i++)
        {
            var others = Enumerable.Range(0, b).Where(j => j != i).ToArray();
            if (distance == SadmDistance.Squared)
            {
                total += others.Sum(j => (ar[i, j] - af[i, j]) * (ar[i, j] - af[i, j])) / (b * (b - 1));
                continue;
            }
            double lr = Math.Log(others.Sum(j => Math.Exp(ar[i, j] / Tau))), lf = Math.Log(others.Sum(j => Math.Exp(af[i, j] / Tau)));
            total += others.Sum(j => Math.Exp(ar[i, j] / Tau - lr) * (ar[i, j] / Tau - lr - (af[i, j] / Tau - lf))) / b;
        }
        return total;
    }

    [TestCase(SadmDistance.Kl)]
    [TestCase(SadmDistance.Squared)]
    public void ItsBackwardMatchesFiniteDifferences(SadmDistance distance)
    {
        const int b = 5, d = 3;
        OpCheck.Run($"structural distance ({distance})", [new Shape(b, d), new Shape(b, d)],
            x => StructuralDistance.Compute(StructuralDistance.Normalise(x[0]), StructuralDistance.Normalise(x[1]), distance, Tau),
            x => [Reference(x[0], x[1], b, d, distance)],
            new OpCheckOptions { ForwardTol = 1e-4, GradTol = 5e-3, Step = 1e-4, OutputShape = new Shape() });
    }

    [Test]
    public void ABatchTooSmallForAffinitiesIsRefused()
    {
        using var scope = Tensor.Scope();
        Assert.That(() => StructuralDistance.Compute(Unit(1, b: 2), Unit(2, b: 2), SadmDistance.Kl, Tau),
            Throws.ArgumentException.With.Message.Contains("batch 2 must be ≥ 3"));
        Assert.That(() => new SadmOptions().Validate(2), Throws.ArgumentException.With.Message.Contains("too small for affinities"));
    }
}
