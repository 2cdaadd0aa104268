using System.Globalization;
using DiffKernels.Diffusion.Schedules;

namespace DiffKernels.Diffusion.Distillation.Progressive;

/// <summary>
/// The halving schedule of progressive distillation on one fixed grid: the original teacher's Karras grid of T levels
/// then 0 (T Euler steps). Round r (0-based) trains a student of K = T/2^(r+1) steps, whose levels are every
/// (T/K)-th point of that grid, against its teacher of 2K steps on every (T/2K)-th point: a student step σa → σc spans
/// two teacher steps through the midpoint σb between them. Every student therefore samples on the σ's it was trained
/// for: the grid's points it kept.
/// </summary>
public sealed class ProgressiveSchedule
{
    private readonly double[] _grid;

    /// <summary>The schedule of <paramref name="options"/> (its teacher steps, final steps, steps per round and grid).</summary>
    public ProgressiveSchedule(ProgressiveOptions options)
    {
        Rounds = RoundsBetween(options.TeacherSteps, options.FinalSteps);
        TeacherSteps = options.TeacherSteps;
        StepsPerRound = options.StepsPerRound;
        _grid = SigmaGrid.Karras(options.TeacherSteps, options.SigmaMin, options.SigmaMax, options.Rho);
    }

    /// <summary>Whether a teacher of <paramref name="teacherSteps"/> Euler steps can be halved round by round: a power of two ≥ 2.</summary>
    public static bool IsHalvable(int teacherSteps) => teacherSteps >= 2 && (teacherSteps & (teacherSteps - 1)) == 0;

    /// <summary>The student step counts the rounds give from a halvable teacher, largest first (64 → 32, 16, …, 1).</summary>
    public static IReadOnlyList<int> ReachableSteps(int teacherSteps) =>
        IsHalvable(teacherSteps) ? Enumerable.Range(1, int.Log2(teacherSteps)).Select(r => teacherSteps >> r).ToArray() : [];

    /// <summary>
    /// The halving rounds from <paramref name="teacherSteps"/> down to <paramref name="finalSteps"/>; a count the
    /// halving cannot reach throws naming the counts it can.
    /// </summary>
    public static int RoundsBetween(int teacherSteps, int finalSteps)
    {
        if (!IsHalvable(teacherSteps))
            throw new ArgumentException($"pd: the teacher's {teacherSteps} Euler steps must be a power of two ≥ 2 (e.g. 64 or 128), so that every round can halve them");
        int[] reachable = [.. ReachableSteps(teacherSteps)];
        int round = Array.IndexOf(reachable, finalSteps);
        if (round >= 0) return round + 1;
        throw new ArgumentException($"pd: {finalSteps} student steps cannot be reached by halving {teacherSteps} teacher steps; the rounds give {string.Join(", ", reachable.Select(k => k.ToString(CultureInfo.InvariantCulture)))}");
    }

    /// <summary>Number of rounds.</summary>
    public int Rounds { get; }

    /// <summary>Euler steps of the original teacher.</summary>
    public int TeacherSteps { get; }

    /// <summary>Updates per round.</summary>
    public int StepsPerRound { get; }

    /// <summary>The original teacher's grid: its levels, then 0.</summary>
    public IReadOnlyList<double> Grid => _grid;

    /// <summary>The round that iteration <paramref name="step"/> (0-based) belongs to.</summary>
    public int RoundAt(long step) => (int)Math.Min(step / StepsPerRound, Rounds - 1);

    /// <summary>
    /// The round whose student a state after <paramref name="steps"/> completed iterations holds: the round of its last
    /// iteration (round 0 before any). Its end-of-round state is the round's finished student.
    /// </summary>
    public int RoundAfter(long steps) => steps == 0 ? 0 : RoundAt(steps - 1);

    /// <summary>True when iteration <paramref name="step"/> starts a round after the first: the teacher becomes the student before it.</summary>
    public bool StartsRound(long step) => step > 0 && step % StepsPerRound == 0 && step / StepsPerRound < Rounds;

    /// <summary>Steps of round <paramref name="round"/>'s student.</summary>
    public int StudentSteps(int round) => TeacherSteps >> (round + 1);

    /// <summary>The levels round <paramref name="round"/>'s student samples on (before the final 0).</summary>
    public double[] StudentLevels(int round)
    {
        int k = StudentSteps(round), stride = TeacherSteps / k;
        return Enumerable.Range(0, k).Select(i => _grid[i * stride]).ToArray();
    }

    /// <summary>Student step <paramref name="index"/> of round <paramref name="round"/>: σa, the teacher's midpoint σb, and σc.</summary>
    public (double From, double Mid, double To) Levels(int round, int index)
    {
        int stride = TeacherSteps / StudentSteps(round);
        return (_grid[index * stride], _grid[index * stride + stride / 2], _grid[(index + 1) * stride]);
    }

    /// <summary>The learning rate of iteration <paramref name="step"/>: <paramref name="lr"/> decayed linearly towards 0 within its round.</summary>
    public float LearningRate(float lr, long step) => (float)(lr * (1 - (double)(step % StepsPerRound) / StepsPerRound));
}
