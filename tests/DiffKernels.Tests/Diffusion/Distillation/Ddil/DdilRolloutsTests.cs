using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Diffusion.Distillation.Ddil.DdilInputsTests;

namespace DiffKernels.Tests.Diffusion.Distillation.Ddil;

/// <summary>The rollouts' substep grid, the mixed policy's rate and x0 thresholding inside rollouts.</summary>
public class DdilRolloutsTests
{
    [Test]
    public void SubstepsSplitAKarrasGridIntervalAtTheFinerGridsPoints()
    {
        var grid = SigmaGrid.Karras(15, 0.002, 80, 7);
        var half = SigmaGrid.Karras(8, 0.002, 80, 7);
        for (int i = 0; i + 1 < 8; i++)
        {
            var sub = DdilRollouts.SubstepLevels(half[i], half[i + 1], 2);
            Assert.That(sub[0], Is.EqualTo(half[i]));
            Assert.That(sub[2], Is.EqualTo(half[i + 1]));
            Assert.That(sub[1], Is.EqualTo(grid[2 * i + 1]).Within(1e-9 * grid[2 * i + 1]), "the midpoint is the level between on the grid with twice the intervals");
        }
        Assert.That(() => DdilRollouts.SubstepLevels(1, 2, 2), Throws.ArgumentException);
    }

    [TestCase(0.0)]
    [TestCase(0.3)]
    [TestCase(1.0)]
    public void UnderTheMixedPolicyTheTeacherTakesItsShareOfTheIntervals(double p)
    {
        // The student denoises everything to 100 and the teacher to about μ, so after one interval a sample shows who acted.
        var student = new DiagonalGaussianDenoiser(new Edm(), [100.0, 100.0], [1e-3, 1e-3]);
        var b = new GaussianBase(renoises: false, levels: [80, 0.5], student: null);
        var mixed = new MixedBase(b, student);
        const int n = 4000;
        var z = new Generator(1).Normal([n, 2]);
        var rollout = DdilRollouts.Teacher(mixed, z, Enumerable.Repeat(1, n).ToArray(), null, p, 2, null, new Generator(2));
        var x = rollout.Input.ToArray();
        double byStudent = Enumerable.Range(0, n).Count(i => x[2 * i] > 50) / (double)n;
        Assert.That(byStudent, Is.EqualTo(1 - p).Within(5 * Math.Sqrt(p * (1 - p) / n) + 1e-12));
        Assert.That((rollout.TeacherActions, rollout.Decisions), Is.EqualTo(((long)Math.Round(n * (1 - byStudent)), (long)n)));
    }

    [Test]
    public void ThresholdedRolloutsContinueFromClippedEstimates()
    {
        // Data far outside [−1, 1]: with clipping every estimate is in [−1, 1], so a rollout one interval down to a small σ stays near it.
        var b = new GaussianBase(renoises: true, levels: [80, 0.01]);
        const int n = 500;
        var z = new Generator(3).Normal([n, 2]);
        var clipped = DdilRollouts.Teacher(b, z, Enumerable.Repeat(1, n).ToArray(), null, 1, 4, 0f, new Generator(4)).Input.ToArray();
        Assert.That(clipped.Max(v => Math.Abs(v)), Is.LessThan(1.1));
        var free = DdilRollouts.Teacher(b, z, Enumerable.Repeat(1, n).ToArray(), null, 1, 4, null, new Generator(4)).Input.ToArray();
        Assert.That(free.Select((v, i) => i % 2 == 1 ? v : 0).Min(), Is.LessThan(-1.5), "unclipped, the second coordinate reaches its mean −2");
        var estimates = DdilRollouts.StudentEstimates(b, z, 2, null, 0f, new Generator(5));
        Assert.That(estimates.SelectMany(e => e.ToArray()).Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(1f));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void RolloutsKeepOnlyTheirStatesNotEachEvaluationsIntermediates(bool renoises)
    {
        // A Fashion-MNIST rollout runs dozens of network evaluations at batch 256; holding each one's activations until
        // the rollout ends exhausted memory, so each interval and substep releases its own and only the states survive.
        var b = new GaussianBase(renoises, levels: [80, 40, 20, 10, 5, 2.5, 1.2, 0.6]);
        const int n = 16, steps = 7;
        var z = new Generator(6).Normal([n, 2]);
        int teacherHeld, studentHeld;
        using (var scope = Tensor.Scope())
        {
            DdilRollouts.Teacher(b, z, Enumerable.Range(0, n).Select(i => i % (steps + 1)).ToArray(), null, 0.5, 4, 0.995f, new Generator(7));
            teacherHeld = scope.Count;
        }
        using (var scope = Tensor.Scope())
        {
            DdilRollouts.StudentEstimates(b, z, steps, null, 0.995f, new Generator(8));
            studentHeld = scope.Count;
        }
        Assert.That(teacherHeld, Is.LessThanOrEqualTo(4 * (steps + 1)), "the walk's states and the per-sample selection among them");
        Assert.That(studentHeld, Is.LessThanOrEqualTo(2 * steps + 1), "one estimate and one state per level");
    }

    /// <summary>The Gaussian base with another student denoiser (the teacher stays the exact one).</summary>
    private sealed class MixedBase(GaussianBase inner, DiffKernels.Diffusion.Models.INoiseNet student) : IDdilBase
    {
        public DiffKernels.Diffusion.Distillation.Common.FrozenTeacher Expert => inner.Expert;

        public IReadOnlyList<double> StudentLevels => inner.StudentLevels;

        public bool StudentRenoises => inner.StudentRenoises;

        public Tensor StudentDenoise(Tensor x, double sigma, Tensor? labels)
        {
            using var noGrad = Tensor.NoGrad();
            return new Edm().Denoise(student, x, sigma, labels);
        }
    }
}
