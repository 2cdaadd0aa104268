namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>The mixture weights of the three sources at one iteration (they sum to 1).</summary>
/// <param name="Data">β_data: forward-diffused data.</param>
/// <param name="Teacher">β_teacher: teacher rollouts.</param>
/// <param name="Student">β_student: student rollouts.</param>
public readonly record struct DdilWeights(double Data, double Teacher, double Student);

/// <summary>
/// DDIL's β schedule within each period of <see cref="DdilOptions.SchedulePeriod"/> iterations: (1, 0, 0) up to the
/// warm-up fraction, then linear to the final weights by the ramp-end fraction, then fixed. The weights are those of
/// an iteration's position in its period, so a resumed run with the same period draws what the uninterrupted one would
/// (a DMD2 run whose period is its total and that resumes with a new total takes the new period's weights from there on).
/// </summary>
public static class DdilSchedule
{
    /// <summary>The weights of iteration <paramref name="step"/> (0-based) under <paramref name="options"/> (whose period must be resolved, ≥ 1).</summary>
    public static DdilWeights At(DdilOptions options, long step)
    {
        if (options.SchedulePeriod < 1) throw new ArgumentException($"ddil: the schedule period {options.SchedulePeriod} is unresolved; it must be ≥ 1");
        double t = (double)(step % options.SchedulePeriod) / options.SchedulePeriod;
        double w = t < options.WarmupFraction ? 0
            : t >= options.RampEndFraction ? 1
            : (t - options.WarmupFraction) / (options.RampEndFraction - options.WarmupFraction);
        return new DdilWeights(1 - w * (1 - options.DataWeight), w * options.TeacherWeight, w * options.StudentWeight);
    }
}
