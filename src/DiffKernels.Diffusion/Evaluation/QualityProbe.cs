using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>
/// What a run's quality curve measures (<see cref="Training.RunOptions.QualityCurve"/>): the score `dk eval` gives the
/// network the run would release when no sampler flag is given — the model's own sampler (a student's levels, a
/// generator's one evaluation), seed 0, no guidance, images clipped and their border reset as exported — without the
/// floor, precision/recall or mode coverage, which the curve does not plot. On images it is the Fréchet distance in
/// the metric classifier's features against the test set (<see cref="Fd"/>); on a 2D toy, the sliced Wasserstein
/// distance to a fresh sample of the toy (<see cref="Sw2"/>). The samples come from streams of their own
/// (Generator(<see cref="Seed"/>) and those keyed from it), never from the run's.
/// </summary>
public sealed class QualityProbe
{
    /// <summary>The metric's name on images, as log lines and the plot's file name carry it.</summary>
    public const string Fd = "fd";

    /// <summary>The metric's name on toys.</summary>
    public const string Sw2 = "sw2";

    /// <summary>The seed of every measurement: `dk eval`'s default, so a measurement at a checkpoint's step is what `dk eval --n` gives that checkpoint.</summary>
    public const ulong Seed = 0;

    // Samples integrated together, `dk eval`'s defaults (the samples do not depend on it).
    private const int ImageBatch = 100;
    private const int ToyBatch = 500;

    private readonly FrechetEvaluator? _evaluator;
    private readonly ToyDistribution? _toy;

    private QualityProbe(FrechetEvaluator? evaluator, ToyDistribution? toy) => (_evaluator, _toy) = (evaluator, toy);

    /// <summary>Fréchet distance against the test set <paramref name="evaluator"/> compares with (it is not owned).</summary>
    public static QualityProbe Images(FrechetEvaluator evaluator) => new(evaluator ?? throw new ArgumentNullException(nameof(evaluator)), null);

    /// <summary>SW₂ against fresh samples of <paramref name="toy"/>.</summary>
    public static QualityProbe Toy(ToyDistribution toy) => new(null, toy ?? throw new ArgumentNullException(nameof(toy)));

    /// <summary><see cref="Fd"/> or <see cref="Sw2"/>.</summary>
    public string Metric => _evaluator != null ? Fd : Sw2;

    /// <summary>
    /// The sampler settings `dk eval` uses for <paramref name="model"/> with no sampler flags: its own sampler and levels,
    /// its recorded x0 threshold, <see cref="Seed"/>, no guidance.
    /// </summary>
    public SamplerOptions Options(PretrainedModel model) =>
        model.Options(seed: Seed, batchSize: _evaluator != null ? ImageBatch : ToyBatch, threshold: model.DefaultOptions.Threshold) with { Guidance = 1 };

    /// <summary>Throws unless <paramref name="model"/> draws what this probe scores: images the classifier reads, or 2D points.</summary>
    public void Check(PretrainedModel model)
    {
        if (_evaluator != null) ImageEvaluation.CheckShape(model.RawSampleShape, _evaluator, 2);
        else if (model.SampleShape != new Shape(2))
            throw new ArgumentException($"{model.FilePath} draws samples of shape {model.SampleShape}; SW₂ against toy:{_toy!.Name} needs 2D points");
    }

    /// <summary>
    /// The metric of <paramref name="n"/> samples of <paramref name="model"/> (n ≥ 2). Samples that come out NaN or
    /// infinite throw an <see cref="InvalidInputException"/> naming the model, as they do in `dk eval`.
    /// </summary>
    public double Measure(PretrainedModel model, int n)
    {
        Check(model);
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), $"QualityProbe: {n} samples; the metric needs at least 2");
        var options = Options(model);
        if (_evaluator == null) return ToyEvaluation.Evaluate(model, _toy!, n, options).Report.SlicedWasserstein;
        using var scope = Tensor.Scope();
        return ImageEvaluation.Evaluate(model, _evaluator, n, options, floor: false, precisionRecall: false).Report.Metrics.Fd;
    }
}
