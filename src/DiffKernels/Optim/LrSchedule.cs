namespace DiffKernels.Optim;

/// <summary>
/// Learning rate as a function of the optimiser step (0-based): a linear warm-up from 0 over
/// <see cref="WarmupSteps"/>, then either constant or a half-cosine decay to <see cref="Floor"/>
/// reached at <see cref="TotalSteps"/> and held afterwards.
/// </summary>
public sealed class LrSchedule
{
    private LrSchedule(float baseLr, int warmupSteps, int? totalSteps, float floor)
    {
        if (!(baseLr >= 0) || !float.IsFinite(baseLr)) throw new ArgumentOutOfRangeException(nameof(baseLr), $"LrSchedule: base rate {baseLr} must be finite and ≥ 0");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"LrSchedule: warm-up {warmupSteps} must be ≥ 0");
        if (totalSteps is { } t && t < warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"LrSchedule: total steps {t} must be ≥ warm-up steps {warmupSteps}");
        if (!(floor >= 0 && floor <= baseLr)) throw new ArgumentOutOfRangeException(nameof(floor), $"LrSchedule: floor {floor} must be in [0, {baseLr}]");
        BaseLr = baseLr;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        Floor = floor;
    }

    /// <summary>Warm-up then a constant <paramref name="lr"/>.</summary>
    public static LrSchedule Constant(float lr, int warmupSteps = 0) => new(lr, warmupSteps, null, lr);

    /// <summary>Warm-up, then cosine decay from <paramref name="lr"/> to <paramref name="floor"/> at <paramref name="totalSteps"/>.</summary>
    public static LrSchedule Cosine(float lr, int warmupSteps, int totalSteps, float floor = 0f) => new(lr, warmupSteps, totalSteps, floor);

    /// <summary>Peak learning rate.</summary>
    public float BaseLr { get; }

    /// <summary>Steps of linear warm-up (0: none).</summary>
    public int WarmupSteps { get; }

    /// <summary>Step at which the cosine reaches the floor; null for a constant schedule.</summary>
    public int? TotalSteps { get; }

    /// <summary>Final learning rate of the cosine decay.</summary>
    public float Floor { get; }

    /// <summary>The learning rate for step <paramref name="step"/> (0-based).</summary>
    public float At(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"LrSchedule.At: step {step} must be ≥ 0");
        if (step < WarmupSteps) return (float)((double)BaseLr * step / WarmupSteps);
        if (TotalSteps is not { } total) return BaseLr;
        if (step >= total) return Floor;
        double progress = (double)(step - WarmupSteps) / (total - WarmupSteps);
        return (float)(Floor + (BaseLr - Floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
