using System.Globalization;
using System.Text.Json;
using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>
/// Settings of DDIL on top of a base distillation: the mixture weights of the three input sources and how they move
/// (<see cref="DdilSchedule"/>), the teacher rollouts (substeps, mixed policy), the student-rollout replay buffer and
/// x0 thresholding in every rollout. Stored as JSON under its own checkpoint key beside the base's options, so a resume
/// continues with the same ones.
/// </summary>
public sealed record DdilOptions
{

    /// <summary>Fraction of each schedule period that trains on forward-diffused data alone (β = (1, 0, 0)).</summary>
    public double WarmupFraction { get; init; } = 0.1;

    /// <summary>Fraction of each period by which the weights have moved linearly to their final values.</summary>
    public double RampEndFraction { get; init; } = 0.3;

    /// <summary>Final weight β_data of forward-diffused data.</summary>
    public double DataWeight { get; init; } = 0.5;

    /// <summary>Final weight β_teacher of teacher rollouts.</summary>
    public double TeacherWeight { get; init; } = 0.2;

    /// <summary>Final weight β_student of student rollouts.</summary>
    public double StudentWeight { get; init; } = 0.3;

    /// <summary>
    /// Iterations of one schedule period (the β schedule restarts every period; 0: the base's, resolved whenever a session
    /// starts: a round for progressive distillation, the run's total for DMD2). A 0 is recorded as 0, so a DMD2 run resumed
    /// with a new total takes the schedule of the new total from the resume point on, and one resumed with its total
    /// continues the uninterrupted schedule; a period given here stays that period whatever the total.
    /// </summary>
    public int SchedulePeriod { get; init; }

    /// <summary>Mixed policy of the teacher rollouts: the probability that the teacher takes a student step's interval (1: teacher only).</summary>
    public double MixProbability { get; init; } = 1;

    /// <summary>Teacher Euler steps per student step, on levels spaced like a Karras grid (ρ = 7) between the student's.</summary>
    public int TeacherSubsteps { get; init; } = 2;

    /// <summary>Student rollouts the replay buffer holds (each gives one x0 estimate per student step after the first).</summary>
    public int BufferSize { get; init; } = 256;

    /// <summary>Iterations after which the replay buffer is rolled out again with the current student.</summary>
    public int RefreshEvery { get; init; } = 10;

    /// <summary>
    /// x0 thresholding (reflected diffusion, see Sampling.X0Threshold) of every x0 estimate in the rollouts, teacher's and
    /// student's; null: none.
    /// </summary>
    public float? Threshold { get; init; }

    /// <summary>Serialises the options (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DiffusionJsonContext.Default.DdilOptions);

    /// <summary>Parses options written by <see cref="ToJson"/>.</summary>
    public static DdilOptions FromJson(string json) => JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.DdilOptions) ?? throw new JsonException("ddil: the options JSON is null");

    /// <summary>Throws with the offending setting when the options cannot run.</summary>
    public void Validate()
    {
        foreach (var (name, value) in new[] { ("β_data", DataWeight), ("β_teacher", TeacherWeight), ("β_student", StudentWeight), ("mix probability", MixProbability) })
            if (!(value >= 0 && value <= 1)) throw new ArgumentException($"ddil: {name} {Inv(value)} must lie in [0, 1]");
        double sum = DataWeight + TeacherWeight + StudentWeight;
        if (Math.Abs(sum - 1) > 1e-6)
            throw new ArgumentException($"ddil: the final weights β_data + β_teacher + β_student = {Inv(sum)} must sum to 1");
        if (!(WarmupFraction >= 0 && WarmupFraction <= RampEndFraction && RampEndFraction <= 1))
            throw new ArgumentException($"ddil: the schedule needs 0 ≤ warm-up fraction ({Inv(WarmupFraction)}) ≤ ramp end ({Inv(RampEndFraction)}) ≤ 1");
        if (SchedulePeriod < 0) throw new ArgumentException($"ddil: schedule period {SchedulePeriod} must be ≥ 0 (0: the base's)");
        if (TeacherSubsteps < 1) throw new ArgumentException($"ddil: teacher substeps {TeacherSubsteps} must be ≥ 1");
        if (BufferSize < 1) throw new ArgumentException($"ddil: replay buffer size {BufferSize} must be ≥ 1");
        if (RefreshEvery < 1) throw new ArgumentException($"ddil: refresh interval {RefreshEvery} must be ≥ 1");
        X0Threshold.Validate(Threshold, "ddil");
    }

    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);
}
