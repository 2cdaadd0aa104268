using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>A batch of teacher rollouts and how often the teacher acted in them.</summary>
/// <param name="Input">Each sample's state at its requested student step.</param>
/// <param name="TeacherActions">Student-step intervals (over all samples) the teacher took.</param>
/// <param name="Decisions">Student-step intervals taken in all.</param>
public sealed record TeacherRollout(Tensor Input, long TeacherActions, long Decisions);

/// <summary>
/// DDIL's rollouts, with no graph. Both start at σ_1·z. A teacher rollout walks the student's levels with the expert's
/// sampler (Euler on <see cref="DdilOptions.TeacherSubsteps"/> Karras-spaced substeps per student step) or, under the
/// mixed policy, lets the student take each interval with probability 1 − p. A student rollout walks the student's own
/// sampler and keeps its x0 estimate at every level; DDIL re-noises those with fresh noise. Every x0 estimate is
/// thresholded when a threshold is given, and the walk continues from the thresholded estimate.
/// </summary>
public static class DdilRollouts
{
    /// <summary>Exponent of the Karras spacing of the teacher's substeps.</summary>
    public const double Rho = 7;

    /// <summary>
    /// <paramref name="substeps"/> + 1 levels from <paramref name="from"/> to <paramref name="to"/> (both kept exactly),
    /// evenly spaced in σ^(1/ρ) as a Karras grid is: two substeps between neighbouring levels of a Karras grid meet at the
    /// level between them on the grid with twice the intervals (so a PD round's teacher rollout is its own sampler).
    /// </summary>
    public static double[] SubstepLevels(double from, double to, int substeps)
    {
        if (substeps < 1) throw new ArgumentOutOfRangeException(nameof(substeps), $"ddil: {substeps} substeps; need at least 1");
        if (!(from > to && to > 0)) throw new ArgumentException($"ddil: substeps run between decreasing positive levels, not {from} → {to}");
        double a = Math.Pow(from, 1 / Rho), b = Math.Pow(to, 1 / Rho);
        var levels = new double[substeps + 1];
        for (int s = 0; s <= substeps; s++) levels[s] = Math.Pow(a + (double)s / substeps * (b - a), Rho);
        levels[0] = from;
        levels[substeps] = to;
        return levels;
    }

    /// <summary>
    /// Teacher rollouts from σ_1·<paramref name="z"/> to each sample's student step <paramref name="steps"/>[i]
    /// (0-based; step 0 is the start itself), on <see cref="Walk"/>'s mixed policy. Given <paramref name="rows"/>, only
    /// those samples are rolled out and returned (a data-parallel rank's share), while <paramref name="rng"/> advances
    /// as the whole batch's rollouts advance it.
    /// </summary>
    public static TeacherRollout Teacher(IDdilBase student, Tensor z, IReadOnlyList<int> steps, Tensor? labels, double mixProbability, int substeps,
        float? threshold, Generator rng, BatchShard? rows = null)
    {
        int n = z.Shape[0], k = student.StudentLevels.Count;
        if (steps.Count != n) throw new ArgumentException($"ddil: {steps.Count} step indices for {n} samples");
        if (steps.Any(s => s < 0 || s >= k)) throw new ArgumentException($"ddil: step indices must lie in [0, {k})");
        var shard = rows ?? new BatchShard(0, 1, n);
        using var noGrad = Tensor.NoGrad();
        var walk = Walk(student, z, steps.Count == 0 ? 0 : steps.Max(), labels, mixProbability, substeps, threshold, rng, shard);
        var mine = steps.Skip(shard.Start).Take(shard.Count).ToArray();
        var input = walk.States[0];
        if (mine.Length > 0)
            for (int j = 1; j < walk.States.Length; j++) input = F.Where(Mask(mine.Select(s => s == j).ToArray(), input), walk.States[j], input);
        return new TeacherRollout(input, walk.TeacherActions, walk.Decisions);
    }

    /// <summary>
    /// The states at the student's first <paramref name="count"/> + 1 levels of a walk from σ_1·<paramref name="z"/>. At
    /// every interval each sample's teacher acts with probability <paramref name="mixProbability"/> (one uniform draw per
    /// sample from <paramref name="rng"/> when it lies strictly between 0 and 1): 1 is the teacher's own sampler, 0 the
    /// student's (re-noising from <paramref name="rng"/> when its sampler does). Returns the states and how often the
    /// teacher acted. Given <paramref name="rows"/>, the states are those samples' (none: no network runs) and every draw
    /// is still the whole batch's, so the stream and the counts are those of the whole walk.
    /// </summary>
    public static (Tensor[] States, long TeacherActions, long Decisions) Walk(IDdilBase student, Tensor z, int count, Tensor? labels, double mixProbability,
        int substeps, float? threshold, Generator rng, BatchShard? rows = null)
    {
        var levels = student.StudentLevels;
        if (count < 0 || count >= levels.Count) throw new ArgumentOutOfRangeException(nameof(count), $"ddil: a walk of {count} steps on a {levels.Count}-step student");
        int n = z.Shape[0];
        var shard = rows ?? new BatchShard(0, 1, n);
        if (shard.BatchSize != n) throw new ArgumentException($"ddil: rows of a batch of {shard.BatchSize} for {n} samples");
        bool any = shard.Count > 0;
        var sample = new Shape(z.Shape.ToArray()[1..]);
        var ownLabels = shard.Rows(labels);
        using var noGrad = Tensor.NoGrad();
        var states = new Tensor[count + 1];
        states[0] = any ? F.MulScalar(shard.RowsOf(z), (float)levels[0]) : shard.RowsOf(z);
        long acted = 0;
        for (int j = 0; j < count; j++)
        {
            var x = states[j];
            // Each interval's network activations are released with its scope; only the next state moves out.
            using var interval = Tensor.Scope();
            var teacherActs = new bool[n];
            if (mixProbability >= 1) Array.Fill(teacherActs, true);
            else if (mixProbability > 0)
            {
                var u = rng.Uniform([n], Device.Cpu).ToArray();
                for (int i = 0; i < n; i++) teacherActs[i] = u[i] < mixProbability;
            }
            int actions = teacherActs.Count(a => a);
            acted += actions;
            var mine = teacherActs.AsSpan(shard.Start, shard.Count).ToArray();
            int ownActions = mine.Count(a => a);
            // The stream re-noises for every sample of the batch the student moves, whichever rows are computed here.
            Tensor? noise = actions < n && student.StudentRenoises ? (any ? shard.Normal(rng, sample, z.Device) : rng.Normal([n, .. sample], z.Device)) : null;
            Tensor? byTeacher = ownActions > 0 ? TeacherInterval(student, x, levels[j], levels[j + 1], ownLabels, substeps, threshold) : null;
            Tensor? byStudent = ownActions < shard.Count ? StudentStep(student, x, j, ownLabels, threshold, rng, noise: noise).Next : null;
            states[j + 1] = !any ? x : (byTeacher == null ? byStudent! : byStudent == null ? byTeacher : F.Where(Mask(mine, x), byTeacher, byStudent)).Keep();
        }
        return (states, acted, (long)count * n);
    }

    /// <summary>
    /// The student's own rollouts from σ_1·<paramref name="z"/> through its first <paramref name="count"/> steps: its x0
    /// estimate at each level σ_1 … σ_count (thresholded when asked), in order.
    /// </summary>
    public static Tensor[] StudentEstimates(IDdilBase student, Tensor z, int count, Tensor? labels, float? threshold, Generator rng)
    {
        var levels = student.StudentLevels;
        if (count < 0 || count > levels.Count) throw new ArgumentOutOfRangeException(nameof(count), $"ddil: {count} student estimates from a {levels.Count}-step student");
        using var noGrad = Tensor.NoGrad();
        var x = F.MulScalar(z, (float)levels[0]);
        var estimates = new Tensor[count];
        for (int j = 0; j < count; j++)
        {
            using var step = Tensor.Scope();
            var (d, next) = StudentStep(student, x, j, labels, threshold, rng, last: j + 1 == count);
            estimates[j] = d.Keep();
            if (next != null) x = next.Keep();
        }
        return estimates;
    }

    /// <summary>
    /// The student's step from its level <paramref name="j"/>: its (thresholded) x0 estimate and its state at level j + 1
    /// (null when <paramref name="last"/> or j is its last level, where the walk ends). A re-noising student re-noises
    /// with <paramref name="noise"/> when given, else with unit noise drawn from <paramref name="rng"/>.
    /// </summary>
    public static (Tensor Estimate, Tensor? Next) StudentStep(IDdilBase student, Tensor x, int j, Tensor? labels, float? threshold, Generator rng, bool last = false,
        Tensor? noise = null)
    {
        var levels = student.StudentLevels;
        var d = X0Threshold.Apply(student.StudentDenoise(x, levels[j], labels), threshold);
        if (last || j + 1 >= levels.Count) return (d, null);
        var next = student.StudentRenoises
            ? F.Add(d, F.MulScalar(noise ?? rng.Normal(x.Shape, x.Device), (float)levels[j + 1]))
            : F.EulerStep(x, d, (float)(levels[j + 1] / levels[j]));
        return (d, next);
    }

    private static Tensor TeacherInterval(IDdilBase student, Tensor x, double from, double to, Tensor? labels, int substeps, float? threshold)
    {
        var sub = SubstepLevels(from, to, substeps);
        int n = x.Shape[0];
        for (int s = 0; s < substeps; s++)
        {
            using var substep = Tensor.Scope();
            var d = X0Threshold.Apply(student.Expert.Denoise(x, Tensor.Full([n], (float)sub[s], x.Device), labels), threshold);
            x = F.EulerStep(x, d, (float)(sub[s + 1] / sub[s])).Keep();
        }
        return x;
    }

    /// <summary>A per-sample 0/1 mask broadcasting over samples shaped like <paramref name="like"/>.</summary>
    internal static Tensor Mask(bool[] on, Tensor like)
    {
        var shape = Enumerable.Repeat(1, like.Rank).ToArray();
        shape[0] = on.Length;
        return Tensor.FromSpan(on.Select(v => v ? 1f : 0f).ToArray(), shape, like.Device);
    }
}
