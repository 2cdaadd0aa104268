using System.CommandLine;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Distributed;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// What every run command (train, train-gan, distill METHOD) shares: the run flags (--steps, --batch, --seed,
/// --ema-half-life, --checkpoint-every, --log-every, --preview, the quality curve's (<see cref="QualityCurveFlags"/>), --out,
/// --resume, --force, --device) and the flow: --out checked before any work (<see cref="OutputGuard.Folder"/>: another verb's run folder is refused, a non-empty one needs
/// --force, which removes an earlier run's files there once the new run is built, the run is recorded as its owner), the device opened, a new run or a resume of the one in --out (a training
/// checkpoint; refusing settings a resume must keep),
/// Ctrl-C or SIGTERM saving a checkpoint (exit 130), the progress display and the closing line. A command adds its
/// own flags and builds or resumes its run on the device it is given.
/// </summary>
internal sealed class RunCommand
{
    private readonly string _name;
    private readonly string _checkpointFile;
    private readonly string _product;
    private readonly IReadOnlyList<string> _outputs;

    // The previews RunLoop writes at each checkpoint (samples-{step:D7}.png).
    private const string PreviewFiles = "samples-*.png";

    private QualityCurveFlags? _curve;

    /// <summary>
    /// The flags of `dk <paramref name="name"/>` with <paramref name="defaults"/>' values; <paramref name="iteration"/>
    /// and <paramref name="batch"/> say what a step and a batch are, <paramref name="preview"/> what the preview holds;
    /// the run writes <paramref name="checkpointFile"/> (its <paramref name="product"/>, as the closing line calls it) in
    /// --out (default <paramref name="outDir"/>); <paramref name="previewLimit"/>, when given, is the most --preview takes
    /// (checked as the command line is parsed); <paramref name="otherOutputs"/> names the files the run writes in --out
    /// besides its checkpoint, log and previews (a * stands for digits), which --force removes with those when a new run
    /// starts over an earlier one.
    /// </summary>
    public RunCommand(string name, RunOptions defaults, string iteration, string batch, string preview, string outDir, string checkpointFile, string product,
        int? previewLimit = null, params string[] otherOutputs)
    {
        _name = name;
        _checkpointFile = checkpointFile;
        _product = product;
        _outputs = [checkpointFile, RunLoop.LogFile, PreviewFiles, QualityCurveLog.PlotFile(QualityProbe.Fd), QualityCurveLog.PlotFile(QualityProbe.Sw2), .. otherOutputs];
        Steps = new Option<int>("--steps") { Description = $"{iteration}, ≥ 1 (on --resume: the new total)", DefaultValueFactory = _ => defaults.Steps };
        Steps.AtLeast(1);
        Batch = new Option<int>("--batch") { Description = batch, DefaultValueFactory = _ => defaults.BatchSize };
        Batch.AtLeast(1);
        Seed = new Option<ulong>("--seed") { Description = "Seed of the weights and of the run's random streams", DefaultValueFactory = _ => 0UL };
        EmaHalfLife = new Option<double>("--ema-half-life")
        {
            Description = "EMA half-life of the sampled network, in samples seen (0: no EMA)",
            DefaultValueFactory = _ => defaults.EmaHalfLifeSamples ?? 0,
        };
        EmaHalfLife.NonNegative("0: no EMA");
        CheckpointEvery = new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints (0: at the end only)", DefaultValueFactory = _ => defaults.CheckpointEvery };
        CheckpointEvery.AtLeast(0, "0: at the end only");
        LogEvery = new Option<int>("--log-every") { Description = "Iterations per JSONL log line", DefaultValueFactory = _ => defaults.LogEvery };
        LogEvery.AtLeast(1);
        Preview = new Option<int?>("--preview") { Description = $"{preview} in the preview PNG written at each checkpoint (0: none)" };
        Preview.Check(p => p < 0 ? $"--preview {p} must be ≥ 0 (0: no previews)" : p > previewLimit ? $"--preview {p}: at most {previewLimit}" : null);
        Out = new Option<string>("--out") { Description = $"Output directory ({checkpointFile}, {RunLoop.LogFile}, previews)", DefaultValueFactory = _ => outDir };
        Resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out (a training checkpoint: exact resume)" };
        Force = OutputGuard.ForceOption("an earlier run in --out with a new one, removing the files it wrote there as the new one starts; other files stay");
        DeviceFlag = DeviceOption.Create();
        DistributedFlag = DistributedOption.Create();
    }

    /// <summary>--distributed.</summary>
    public Option<string> DistributedFlag { get; }

    /// <summary>--steps.</summary>
    public Option<int> Steps { get; }

    /// <summary>--batch.</summary>
    public Option<int> Batch { get; }

    /// <summary>--seed.</summary>
    public Option<ulong> Seed { get; }

    /// <summary>--ema-half-life.</summary>
    public Option<double> EmaHalfLife { get; }

    /// <summary>--checkpoint-every.</summary>
    public Option<int> CheckpointEvery { get; }

    /// <summary>--log-every.</summary>
    public Option<int> LogEvery { get; }

    /// <summary>--preview (absent: the command's default).</summary>
    public Option<int?> Preview { get; }

    /// <summary>--out.</summary>
    public Option<string> Out { get; }

    /// <summary>--resume.</summary>
    public Option<bool> Resume { get; }

    /// <summary>--force: a new run may start over in an --out that holds files (never in another verb's run), removing an earlier run's files there.</summary>
    public Option<bool> Force { get; }

    /// <summary>--device.</summary>
    public Option<string> DeviceFlag { get; }

    /// <summary>
    /// The command (named by the last word of its name), with <paramref name="own"/> flags and then the shared ones; the
    /// quality curve reads the test set from the command's own --data-dir when it has one.
    /// </summary>
    public Command Create(string description, params Option[] own)
    {
        var cmd = new Command(_name.Split(' ')[^1], description);
        _curve = new QualityCurveFlags(own.OfType<Option<string>>().FirstOrDefault(o => o.Name == "--data-dir"));
        foreach (var flag in own.Concat([Steps, Batch, EmaHalfLife, Seed, CheckpointEvery, LogEvery, Preview, .. _curve.All, Out, Resume, Force, DeviceFlag, DistributedFlag]))
            cmd.Options.Add(flag);
        return cmd;
    }

    private QualityCurveFlags Curve => _curve ?? throw new InvalidOperationException($"dk {_name}: the command is used before Create made it");

    /// <summary>True when <paramref name="option"/> was given on the command line.</summary>
    public static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>
    /// <paramref name="options"/> (a kind's, with its own settings) with the shared flags' values for a new run; without
    /// --steps, the options' own step count (a kind may derive it from its settings).
    /// </summary>
    public T NewRun<T>(ParseResult parse, T options) where T : RunOptions
    {
        double halfLife = parse.GetValue(EmaHalfLife);
        var run = (T)((RunOptions)options with
        {
            Steps = Given(parse, Steps) ? parse.GetValue(Steps) : options.Steps,
            BatchSize = parse.GetValue(Batch),
            Seed = parse.GetValue(Seed),
            EmaHalfLifeSamples = halfLife > 0 ? halfLife : null,
            CheckpointEvery = parse.GetValue(CheckpointEvery),
            LogEvery = parse.GetValue(LogEvery),
            PreviewSamples = parse.GetValue(Preview) ?? options.PreviewSamples,
            QualityCurve = Curve.ForNewRun(parse),
        });
        run.Validate();
        return run;
    }

    /// <summary>The new total of a resumed run: --steps when given.</summary>
    public int? ResumedSteps(ParseResult parse) => Given(parse, Steps) ? parse.GetValue(Steps) : null;

    /// <summary>A resumed run's options with the bookkeeping flags that were given.</summary>
    public T Bookkeeping<T>(ParseResult parse, T options) where T : RunOptions => (T)((RunOptions)options with
    {
        CheckpointEvery = Given(parse, CheckpointEvery) ? parse.GetValue(CheckpointEvery) : options.CheckpointEvery,
        LogEvery = Given(parse, LogEvery) ? parse.GetValue(LogEvery) : options.LogEvery,
        PreviewSamples = parse.GetValue(Preview) ?? options.PreviewSamples,
        QualityCurve = Curve.ForResume(parse, options.QualityCurve),
    });

    /// <summary>
    /// Runs the command on the --device: resumes the run in --out with <paramref name="resume"/> (given its checkpoint;
    /// flags in <paramref name="fixedOnResume"/> and the shared ones a run keeps are refused, <paramref name="mayChange"/>
    /// names what may change where more than the bookkeeping flags may) or starts one with <paramref name="start"/>
    /// (which describes it on the console), then runs it.
    /// </summary>
    public int Execute(ParseResult parse, IEnumerable<Option> fixedOnResume, Func<string, Device, ITrainingRun> resume, Func<IAnsiConsole, Device, ITrainingRun> start,
        string mayChange = "--steps, --checkpoint-every, --log-every, --preview, --fd-every and --fd-n")
    {
        var console = DiffusionCli.Console(parse.InvocationConfiguration.Output);
        var error = parse.InvocationConfiguration.Error;
        IProcessGroup group = SingleProcessGroup.Instance;
        int code;
        try
        {
            code = DiffusionCli.Run(_name, error, () => Body(parse, fixedOnResume, resume, start, mayChange, ref console, out group));
        }
        catch (Exception e) when (group.WorldSize > 1)
        {
            error.WriteLine($"dk {_name}: rank {group.Rank} of {group.WorldSize}: {e.Message.ReplaceLineEndings(" ")}");
            code = 1;
        }
        if (group.WorldSize > 1 && code is not 0 and not DiffusionCli.Interrupted)
        {
            error.WriteLine($"dk {_name}: rank {group.Rank} of {group.WorldSize} failed (exit {code}); stopping every rank");
            error.Flush();
            DistributedOption.Abort(group, code);
        }
        group.Dispose();
        return code;
    }

    private int Body(ParseResult parse, IEnumerable<Option> fixedOnResume, Func<string, Device, ITrainingRun> resume, Func<IAnsiConsole, Device, ITrainingRun> start,
        string mayChange, ref IAnsiConsole console, out IProcessGroup group)
    {
        string outDir = parse.GetValue(Out)!;
        string checkpoint = Path.Combine(outDir, _checkpointFile);
        bool resuming = parse.GetValue(Resume);
        if (resuming && Given(parse, Force)) throw new ArgumentException("--force starts a new run over the files in --out; it does not go with --resume");
        string transport = parse.GetValue(DistributedFlag)!;
        // A distributed run joins its group first (NCCL binds to the device's context, so the device opens before it):
        // only rank 0 checks and claims --out and prints.
        var early = transport == "none" ? null : DeviceOption.Open(parse, DeviceFlag);
        group = DistributedOption.Open(transport);
        if (group.Rank != 0) console = DiffusionCli.Console(TextWriter.Null);
        // The folder is checked (and created) before the device opens or anything loads; it is claimed once the run is built.
        var folder = group.Rank == 0 ? OutputGuard.Folder(outDir, _name, resuming, parse.GetValue(Force), resumable: true, outputs: _outputs) : null;
        group.Barrier();
        if (resuming && !File.Exists(checkpoint)) throw new ArgumentException($"nothing to resume: {checkpoint} does not exist");
        using var on = early ?? DeviceOption.Open(parse, DeviceFlag);
        ITrainingRun run;
        try
        {
            if (resuming)
            {
                var given = fixedOnResume.Concat([Batch, EmaHalfLife, Seed]).Where(o => Given(parse, o)).Select(o => o.Name).ToList();
                if (given.Count > 0)
                    throw new ArgumentException($"on --resume the run keeps its settings; only {mayChange} may change (remove {string.Join(", ", given)})");
                CheckpointKind.RequireTraining(checkpoint, $"dk {_name} --resume");
                run = resume(checkpoint, on.Device);
                console.MarkupLine(Markup.Escape($"resuming {checkpoint} at step {run.Step} of {run.TotalSteps}"));
            }
            else
            {
                run = start(console, on.Device);
            }
        }
        catch
        {
            folder?.Abandon();
            throw;
        }
        IDisposable? probe;
        try
        {
            // Only rank 0 writes files, so only it measures.
            probe = group.Rank == 0 && run.QualityCurve != null ? Curve.Attach(parse, run, console) : null;
        }
        catch
        {
            run.Dispose();
            folder?.Abandon();
            throw;
        }
        folder?.Claim();
        using (probe)
        using (run)
        {
            run.Distribute(group);
            using var stop = DiffusionCli.HookCtrlC();
            var result = ProgressView.Run(console, run, stop.Token);
            if (result.Interrupted)
            {
                console.MarkupLine(Markup.Escape($"interrupted at step {result.Step}; checkpoint saved to {result.CheckpointPath}; continue with: dk {_name} --out {outDir} --resume"));
                return DiffusionCli.Interrupted;
            }
            console.MarkupLine(Markup.Escape($"done: {result.Step} steps ({result.Skipped} updates skipped); {_product} {result.CheckpointPath}, log {Path.Combine(outDir, RunLoop.LogFile)}"));
            return 0;
        }
    }
}
