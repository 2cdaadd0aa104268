using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Tests.Diffusion.Training;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Distributed;

/// <summary>
/// Every run kind is data-parallel: two ranks at half the batch each (threads of this process meeting in a
/// <see cref="ThreadGroup"/>, the transport <see cref="MpiRunTests"/> checks) take the steps of one process at the
/// whole batch. Each kind of <see cref="RunContractTests.Kinds"/> (at its tiny toy settings) runs three iterations both
/// ways; the checkpoints must agree: every random stream at the same offset (each rank draws the whole batch's
/// randomness), every other counter and value of the metadata equal, every tensor (EMA, weights, optimiser moments,
/// replay buffers) within float rounding of the sums taken in another order; and the log's values likewise. Two
/// variants join them: DMD2's two-time-scale rule and BOOT's soft boundary with stratified pairs.
/// </summary>
[TestFixtureSource(nameof(Kinds))]
public class DataParallelTests(RunKind kind)
{
    /// <summary>Every run kind of the run contract and the variants whose iterations differ.</summary>
    public static readonly RunKind[] Kinds = [.. RunContractTests.Kinds, new Dmd2TwoTimeScaleRunKind(), new BootSoftStratifiedRunKind()];

    private const int Steps = 3;

    // Values that differ between any two runs (timing) or only exist on several ranks.
    private static readonly string[] Timings = ["samples_per_s", "elapsed_s", "allreduce_ms"];

    [Test]
    public void TwoRanksAtHalfTheBatchStepLikeOneProcessAtTheWholeBatch()
    {
        using var dir = new TempDir();
        string one = dir.File("one"), two = dir.File("two");
        string checkpoint;
        using (var run = kind.Start(one, Steps))
        {
            run.Run();
            checkpoint = run.CheckpointPath!;
        }
        var paths = ThreadGroup.Run(2, group =>
        {
            using var run = kind.Start(two, Steps);
            run.Distribute(group);
            Assert.That(run.Run().Step, Is.EqualTo(Steps));
            return run.CheckpointPath;
        });
        Assert.That(paths[1], Is.Null, "only rank 0 writes");
        var (expected, expectedMetadata) = StateOf(checkpoint);
        var (actual, actualMetadata) = StateOf(paths[0]!);
        // Provenance records each session (its time and host); everything else must agree.
        expectedMetadata.Remove(RunProvenance.SessionsKey);
        actualMetadata.Remove(RunProvenance.SessionsKey);
        Assert.That(actualMetadata.Keys, Is.EquivalentTo(expectedMetadata.Keys));
        foreach (var (key, value) in expectedMetadata) Assert.That(actualMetadata[key], Is.EqualTo(value), $"metadata {key} (streams, counters, settings)");
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (name, values) in expected)
        {
            // Float rounding of the same sums in another order, through three updates.
            var got = actual[name];
            Assert.That(got, Has.Length.EqualTo(values.Length), name);
            for (int i = 0; i < values.Length; i++)
                Assert.That(got[i], Is.EqualTo(values[i]).Within(1e-5 + 1e-4 * Math.Abs(values[i])), $"{name}[{i}]");
        }
        // Each log line of several ranks says what the collectives cost per step; one process has none.
        static IEnumerable<JsonObject> Metrics(string dir) =>
            File.ReadLines(Path.Combine(dir, RunLoop.LogFile)).Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => o.ContainsKey("samples_per_s"));
        Assert.That(Metrics(two).Select(o => o["allreduce_ms"]?.GetValue<double>()), Is.Not.Empty.And.All.GreaterThanOrEqualTo(0.0));
        Assert.That(Metrics(one).Where(o => o.ContainsKey("allreduce_ms")), Is.Empty);
        var (expectedLog, actualLog) = (Log(one), Log(two));
        Assert.That(actualLog, Has.Length.EqualTo(expectedLog.Length));
        for (int line = 0; line < expectedLog.Length; line++)
        {
            Assert.That(actualLog[line].Keys, Is.EquivalentTo(expectedLog[line].Keys), $"log line {line + 1}");
            foreach (var (key, value) in expectedLog[line])
                Assert.That(actualLog[line][key], value == null ? Is.Null : Is.EqualTo(value.Value).Within(1e-5 + 1e-4 * Math.Abs(value.Value)), $"log line {line + 1}: {key}");
        }
    }

    private static (Dictionary<string, float[]> Tensors, Dictionary<string, string> Metadata) StateOf(string checkpoint)
    {
        var file = SafeTensors.Load(checkpoint);
        return (file.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    // Each line's numeric values by name (null for a JSON null), timing left out; warnings keep their text as a key.
    private static Dictionary<string, double?>[] Log(string dir) =>
        File.ReadAllLines(Path.Combine(dir, RunLoop.LogFile)).Select(line => JsonNode.Parse(line)!.AsObject()
            .Where(kv => !Timings.Contains(kv.Key))
            .ToDictionary(kv => kv.Value is JsonValue v && v.TryGetValue(out double d) ? kv.Key : $"{kv.Key}={kv.Value?.ToJsonString()}",
                kv => kv.Value is JsonValue v && v.TryGetValue(out double d) ? d : (double?)null)).ToArray();
}
