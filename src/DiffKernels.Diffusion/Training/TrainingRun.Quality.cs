using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Random;

namespace DiffKernels.Diffusion.Training;

// The quality curve: the network the run would release, measured as `dk eval` would score it, into the log and a plot.
public abstract partial class TrainingRun<TOptions>
{
    /// <inheritdoc/>
    public QualityCurveOptions? QualityCurve => Options.QualityCurve;

    /// <inheritdoc/>
    public QualityProbe? Probe { get; set; }

    /// <inheritdoc/>
    public PretrainedModel Release()
    {
        var (kind, config) = ModelFactory.Describe(State.Sampled);
        var metadata = new Dictionary<string, string>(State.Metadata()) { [ModelFactory.KindKey] = kind, [ModelFactory.ConfigKey] = config };
        var network = ModelFactory.Create(kind, config, new Generator(0), Device);
        try
        {
            network.LoadStateDict(State.Ema.Shadow);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return PretrainedModel.FromMemory(new LoadedModel(kind, network, metadata), $"{CheckpointPath ?? GetType().Name} at step {Step}", Device);
    }

    /// <summary>
    /// True when this run measures its curve (it has one and writes files); a resumed run's plot is redrawn from its log
    /// as the resume truncated it, before any new point.
    /// </summary>
    private bool StartCurve()
    {
        if (Options.QualityCurve == null || OutDir == null) return false;
        var probe = Probe ?? throw new InvalidOperationException($"{GetType().Name}: the options ask for a quality curve; set {nameof(Probe)} before the run starts");
        if (Step > 0)
        {
            string log = Path.Combine(OutDir, LogFile);
            RunLog.DropAfter(log, Step);
            QualityCurveLog.Draw(log, probe.Metric, Path.Combine(OutDir, QualityCurveLog.PlotFile(probe.Metric)));
        }
        return true;
    }

    /// <summary>
    /// Measures the network the run would release now and logs the value and the sample count at this step, then
    /// redraws the plot. Samples that come out NaN or infinite (or EMA weights that are) log null with a warning: the
    /// curve watches the run, it does not stop it.
    /// </summary>
    private void Measure(RunLog log)
    {
        var probe = Probe!;
        int samples = Options.QualityCurve!.Samples;
        double? value = null;
        try
        {
            using var model = Release();
            value = probe.Measure(model, samples);
        }
        catch (InvalidInputException e)
        {
            string message = $"step {Step}: {probe.Metric} not measured: {e.Message}";
            log.Warning(Step, message);
            OnWarning?.Invoke(message);
        }
        log.Metrics(Step, [(probe.Metric, value), (QualityCurveLog.CountKey(probe.Metric), samples)]);
        QualityCurveLog.Draw(log.Path, probe.Metric, Path.Combine(OutDir!, QualityCurveLog.PlotFile(probe.Metric)));
    }
}
