using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Dmd2;

/// <summary>
/// The K-step student's levels, its backward simulation and the sampler its checkpoint records. With a student that is
/// the exact denoiser of N(m, v) data, D_j(x) = m + k_j(x − m), k_j = v/(v + σ_j²), the input of step j has mean and
/// variance by the recursion μ_0 = 0, V_0 = σ_0², μ_{j+1} = m + k_j(μ_j − m), V_{j+1} = k_j²V_j + σ_{j+1}² — the
/// last term only when each re-noising draws FRESH noise (reusing z would give (k_jσ_j + σ_{j+1})²-like cross terms).
/// </summary>
public class FewStepStudentTests
{
    private static readonly double[] Mean = [0.6, -1.0];
    private static readonly double[] Std = [0.5, 1.5];

    [Test]
    public void FourLevelsAreTheReferenceTimestepsOfTheThousandPointGrid()
    {
        var grid = new Dmd2Grid(1000);
        Assert.That(grid.StudentLevels(4), Is.EqualTo(new[] { grid.Sigmas[0], grid.Sigmas[250], grid.Sigmas[500], grid.Sigmas[750] }));
        Assert.That(grid.StudentLevels(1), Is.EqualTo(new[] { 80.0 }));
        Assert.That(grid.StudentLevels(1000), Is.EqualTo(grid.Sigmas));
        Assert.That(() => grid.StudentLevels(1001), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("1001 student steps cannot be taken from the 1000-point σ grid"));
        Assert.That(() => grid.StudentLevels(0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void DistributionMatchingLevelsStayInsideTheirShareOfTheGrid()
    {
        var grid = new Dmd2Grid(1000);
        using var scope = Tensor.Scope();
        var sigma = grid.Sample(20_000, new Generator(3), Device.Cpu, 0.02, 0.98).ToArray();
        // Positions 20..980 from the σ_min end are indices 979..19 from σ_max.
        Assert.That(sigma.Max(), Is.EqualTo((float)grid.Sigmas[19]));
        Assert.That(sigma.Min(), Is.EqualTo((float)grid.Sigmas[979]));
        Assert.That(sigma.Distinct().Count(), Is.EqualTo(961), "every index of the range is drawn");
    }

    [Test]
    public void BackwardSimulationGivesEachStepItsLevelAndItsVariance()
    {
        const int n = 40_000;
        var levels = new Dmd2Grid(1000).StudentLevels(4);
        var edm = new Edm();
        using var net = new GaussianAuxiliary(Mean, Std);
        var student = new FewStepStudent(net, edm, levels);
        using var scope = Tensor.Scope();
        var rng = new Generator(9);
        var z = rng.Normal([n, 2]);
        var steps = Enumerable.Range(0, n).Select(i => i % 4).ToArray();
        var (input, sigma) = student.SimulateInputs(z, steps, rng);
        Assert.That(input.RequiresGrad, Is.False);
        float[] x = input.ToArray(), s = sigma.ToArray(), zs = z.ToArray();
        for (int i = 0; i < n; i++) Assert.That(s[i], Is.EqualTo((float)levels[steps[i]]));
        for (int i = 0; i < n; i += 4)
        {
            Assert.That(x[2 * i], Is.EqualTo(zs[2 * i] * (float)levels[0]), "step 0 starts from σ_1·z");
        }

        for (int d = 0; d < 2; d++)
        {
            double m = Mean[d], v = Std[d] * Std[d], mu = 0, variance = levels[0] * levels[0];
            for (int j = 0; j < 4; j++)
            {
                var values = Enumerable.Range(0, n).Where(i => steps[i] == j).Select(i => (double)x[2 * i + d]).ToArray();
                double sampleMean = values.Average(), sampleVar = values.Sum(u => (u - sampleMean) * (u - sampleMean)) / (values.Length - 1);
                // Standard errors of the mean and of the variance of a Gaussian sample, four of each.
                Assert.That(sampleMean, Is.EqualTo(mu).Within(4 * Math.Sqrt(variance / values.Length)), $"mean at step {j}, coordinate {d}");
                Assert.That(sampleVar, Is.EqualTo(variance).Within(4 * variance * Math.Sqrt(2.0 / (values.Length - 1))), $"variance at step {j}, coordinate {d}");
                if (j == 3) break;
                double k = v / (v + levels[j] * levels[j]);
                mu = m + k * (mu - m);
                variance = k * k * variance + levels[j + 1] * levels[j + 1];
            }
        }
    }

    [Test]
    public void RecordedLevelsAreReadBackAndMalformedOnesRefused()
    {
        Dictionary<string, string> Meta(string steps, string levels) => new()
        {
            [SamplerOptions.KindKey] = "renoise", [SamplerOptions.StepsKey] = steps, [SamplerOptions.SigmasKey] = levels,
        };
        var read = SamplerDefaults.Of(Meta("3", "80,2.5,0.25"));
        Assert.That(read.ApplyTo(new SamplerOptions()).Grid(), Is.EqualTo(new[] { 80, 2.5, 0.25, 0 }));
        Assert.That(() => SamplerDefaults.Of(Meta("2", "80,x")), Throws.ArgumentException.With.Message.Contains("is not a list of numbers"));
        Assert.That(() => SamplerDefaults.Of(Meta("2", "1,2")), Throws.ArgumentException.With.Message.Contains("decreasing"));
        Assert.That(() => SamplerDefaults.Of(Meta("3", "80,1")), Throws.ArgumentException.With.Message.Contains("2 explicit levels for 3 steps"));
    }

    [Test]
    public void TheRecordedSamplerWalksTheSameLevelsAsTheSimulation()
    {
        var levels = new Dmd2Grid(1000).StudentLevels(3);
        var edm = new Edm();
        using var net = new GaussianAuxiliary(Mean, Std);
        var student = new FewStepStudent(net, edm, levels);
        var sampler = student.Sampler;
        Assert.That((sampler.Kind, sampler.Steps, sampler.Sigmas), Is.EqualTo((SamplerKind.Renoise, 3, levels)));
        Assert.That(new FewStepStudent(net, edm, [80.0]).Sampler.Kind, Is.EqualTo(SamplerKind.Euler), "one step is the one-step generator's Euler step");

        // The sampler draws z, then one fresh [n, …] block per later level; simulating to the last step with the same
        // draws and denoising there gives the same samples.
        const int n = 64;
        using var scope = Tensor.Scope();
        var samples = DiffusionSampler.Generate(net, edm, n, sampler with { Seed = 4, BatchSize = 16 });
        Assert.That(samples.Nfe, Is.EqualTo(3));
        var rng = new Generator(4);
        var z = rng.Normal([n, 2]);
        var (input, sigma) = student.SimulateInputs(z, Enumerable.Repeat(2, n).ToArray(), rng);
        Tensor last;
        using (Tensor.NoGrad()) last = edm.Denoise(net, input, levels[2]);
        Assert.That(samples.Samples.ToArray(), Is.EqualTo(last.ToArray()));
        Assert.That(sigma.ToArray().Distinct(), Is.EqualTo(new[] { (float)levels[2] }));
    }
}
