using System.Text.Json;
using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;

namespace DiffKernels.Tests.Diffusion.Training;

/// <summary>
/// What every run kind owes, whatever its iteration: a resume is bit-exact, a cancelled run saves a checkpoint
/// that resumes, a non-finite value skips and counts its update with a warning (and too many in a row stop the run),
/// a resume drops the log lines a killed run wrote past its checkpoint, and measuring a quality curve changes nothing
/// the run trains while a resume continues the curve. A new kind gets these tests by adding
/// its <see cref="RunKind"/> to <see cref="Kinds"/>.
/// </summary>
[TestFixtureSource(nameof(Kinds))]
public class RunContractTests(RunKind kind)
{
    /// <summary>Every run kind.</summary>
    public static readonly RunKind[] Kinds =
        [new EdmRunKind(), new GanRunKind(), new DiffInstructRunKind(), new ProgressiveRunKind(), new Dmd2RunKind(), new Dmd2GanRunKind(), new BootRunKind(),
         new DdilPdRunKind(), new DdilDmd2RunKind(), new SadmRunKind(), new SadmSquaredRunKind()];

    private const int Steps = 6;

    private static string Checkpoint(ITrainingRun run) => run.CheckpointPath!;

    /// <summary>The checkpoint's every tensor and metadata value (the whole state: EMA, raw weights, optimisers, streams, counters).</summary>
    private static (Dictionary<string, float[]> Tensors, Dictionary<string, string> Metadata) StateOf(string checkpoint)
    {
        var file = SafeTensors.Load(checkpoint);
        return (file.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>The log's lines without the timing values, which no two runs share.</summary>
    private static string[] Log(string dir) =>
        File.ReadAllLines(Path.Combine(dir, RunLoop.LogFile)).Select(line =>
        {
            var o = JsonNode.Parse(line)!.AsObject();
            o.Remove("samples_per_s");
            o.Remove("elapsed_s");
            return o.ToJsonString();
        }).ToArray();

    private (Dictionary<string, float[]>, Dictionary<string, string>, string[]) Straight(TempDir dir)
    {
        string outDir = dir.File("straight");
        string checkpoint;
        using (var run = kind.Start(outDir, Steps))
        {
            Assert.That(run.Run().Step, Is.EqualTo(Steps));
            checkpoint = Checkpoint(run);
        }
        var (tensors, metadata) = StateOf(checkpoint);
        return (tensors, metadata, Log(outDir));
    }

    [Test]
    public void AResumedRunIsBitExact()
    {
        using var dir = new TempDir();
        var (tensors, metadata, log) = Straight(dir);
        string outDir = dir.File("split");
        string checkpoint;
        using (var first = kind.Start(outDir, Steps / 2))
        {
            first.Run();
            checkpoint = Checkpoint(first);
        }
        using (var rest = kind.Resume(checkpoint, Steps))
        {
            Assert.That(rest.Step, Is.EqualTo(Steps / 2));
            rest.Run();
        }
        var (resumed, resumedMetadata) = StateOf(checkpoint);
        Assert.That(resumed.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, values) in tensors) Assert.That(resumed[name], Is.EqualTo(values), name);
        // Provenance is the one difference: the resumed run records the session that continued it.
        Assert.That(RunProvenance.Sessions(resumedMetadata), Has.Count.EqualTo(RunProvenance.Sessions(metadata).Count + 1));
        resumedMetadata.Remove(RunProvenance.SessionsKey);
        metadata.Remove(RunProvenance.SessionsKey);
        Assert.That(resumedMetadata, Is.EquivalentTo(metadata));
        Assert.That(Log(outDir), Is.EqualTo(log), "the same log values");
        Assert.That(log.Select(l => JsonNode.Parse(l)!.AsObject().ElementAt(1).Value!.ToJsonString()).Distinct().Count(), Is.GreaterThan(1), "the values move");
    }

    [Test]
    public void ACancelledRunSavesACheckpointThatResumes()
    {
        using var dir = new TempDir();
        var (tensors, _, log) = Straight(dir);
        string outDir = dir.File("cancelled");
        using var cancel = new CancellationTokenSource();
        string checkpoint;
        using (var run = kind.Start(outDir, Steps, checkpointEvery: 2))
        {
            var result = run.Run(cancel.Token, p =>
            {
                if (p.Step == 3) cancel.Cancel();
            });
            Assert.That((result.Interrupted, result.Step), Is.EqualTo((true, 3L)));
            checkpoint = Checkpoint(run);
            Assert.That(result.CheckpointPath, Is.EqualTo(checkpoint));
        }
        Assert.That(SafeTensors.ReadHeader(checkpoint).Metadata[CheckpointKeys.Step], Is.EqualTo("3"));
        using (var rest = kind.Resume(checkpoint, Steps)) Assert.That(rest.Run().Step, Is.EqualTo(Steps));
        var (resumed, _) = StateOf(checkpoint);
        foreach (var (name, values) in tensors) Assert.That(resumed[name], Is.EqualTo(values), name);
        Assert.That(Log(outDir), Is.EqualTo(log));
    }

    [Test]
    public void ANonFiniteValueSkipsItsUpdateWithAWarningAndTooManyInARowStopTheRun()
    {
        using var dir = new TempDir();
        var warnings = new List<string>();
        using (var run = kind.Start(dir.Path, Steps, poisoned: 3))
        {
            run.OnWarning = warnings.Add;
            var result = run.Run();
            Assert.That((result.Step, result.Skipped), Is.EqualTo((6L, 1L)));
        }
        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.That(warnings[0], Does.StartWith("step 4: ").And.Contain("non-finite").And.EndWith(" skipped"));
        var lines = File.ReadAllLines(dir.File(RunLoop.LogFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Where(l => l.TryGetProperty("warning", out _)).Select(l => (l.GetProperty("step").GetInt64(), l.GetProperty("warning").GetString())),
            Is.EqualTo(new[] { (4L, warnings[0]) }));
        Assert.That(lines.Single(l => !l.TryGetProperty("warning", out _) && l.GetProperty("step").GetInt64() == 6).GetProperty("skipped").GetInt64(), Is.EqualTo(1));

        using var diverging = kind.Start(null, Steps, maxConsecutiveSkips: 1, poisoned: [3, 4]);
        Assert.That(() => diverging.Run(), Throws.TypeOf<TrainingDivergedException>().With.Message.Contains("2 consecutive iterations").And.Message.Contains("step 5"));
        Assert.That((diverging.Step, diverging.Skipped), Is.EqualTo((4L, 2L)), "the second skip in a row stops the run before its step counts");
    }

    [Test]
    public void AMeasuredRunTrainsAsAnUnmeasuredOneAndItsResumeContinuesTheCurve()
    {
        var probe = kind.Probe;
        if (probe == null)
        {
            Assert.Ignore($"{kind} has no quality probe that reads its samples");
            return;
        }
        using var dir = new TempDir();
        var (tensors, _, log) = Straight(dir);
        var curve = new QualityCurveOptions { Every = 2, Samples = 64 };
        string metric = probe.Metric, count = QualityCurveLog.CountKey(metric);

        string measured = dir.File("measured");
        string checkpoint;
        using (var run = kind.Start(measured, Steps, curve: curve))
        {
            run.Probe = probe;
            run.Run();
            checkpoint = Checkpoint(run);
        }
        var (measuredTensors, _) = StateOf(checkpoint);
        Assert.That(measuredTensors.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, v) in tensors) Assert.That(measuredTensors[name], Is.EqualTo(v), "measuring leaves the training streams alone: " + name);
        Assert.That(Log(measured).Where(l => !l.Contains($"\"{metric}\"")), Is.EqualTo(log), "the training log is the unmeasured run's");
        var lines = Log(measured).Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => o.ContainsKey(metric)).ToList();
        Assert.That(lines.Select(o => (long)o["step"]!), Is.EqualTo(new long[] { 2, 4, 6 }));
        Assert.That(lines.Select(o => (int)o[count]!), Is.All.EqualTo(64));
        var values = lines.Select(o => (double)o[metric]!).ToList();
        Assert.That(values.All(v => v > 0 && double.IsFinite(v)), string.Join(", ", values));
        Assert.That(File.Exists(Path.Combine(measured, QualityCurveLog.PlotFile(metric))));

        string split = dir.File("split");
        using (var first = kind.Start(split, Steps / 2, curve: curve))
        {
            first.Probe = probe;
            first.Run();
            checkpoint = Checkpoint(first);
        }
        using (var rest = kind.Resume(checkpoint, Steps))
        {
            Assert.That(rest.QualityCurve, Is.EqualTo(curve), "a resume keeps the run's curve");
            rest.Probe = probe;
            rest.Run();
        }
        var (resumed, _) = StateOf(checkpoint);
        foreach (var (name, v) in tensors) Assert.That(resumed[name], Is.EqualTo(v), name);
        var points = QualityCurveLog.Read(Path.Combine(split, RunLoop.LogFile), metric);
        Assert.That(points.Select(p => p.Step), Is.EqualTo(new long[] { 2, 3, 4, 6 }), "each session measures at its last step too");
        Assert.That(points.Where(p => p.Step != 3).Select(p => p.Value), Is.EqualTo(values), "the same values at the same steps");
    }

    [Test]
    public void AResumeDropsTheLogLinesAKilledRunWrotePastItsCheckpoint()
    {
        using var dir = new TempDir();
        string checkpoint;
        using (var run = kind.Start(dir.Path, 4))
        {
            run.Run();
            checkpoint = Checkpoint(run);
        }
        // A run killed after its checkpoint at 4 had logged on to step 6, and a line that is not a step.
        string log = dir.File(RunLoop.LogFile);
        File.AppendAllLines(log, ["{\"step\":5,\"killed\":1}", "{\"step\":6,\"killed\":1}", "not json"]);
        using (var rest = kind.Resume(checkpoint, Steps)) rest.Run();
        var lines = File.ReadAllLines(log);
        var steps = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.That(steps, Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(lines, Does.Contain("not json"));
        Assert.That(lines.Any(l => l.Contains("killed")), Is.False, "the killed run's lines are gone");
    }
}
