using System.Text.Json;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using DiffKernels.Random;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

public class SetSamplerCommandTests
{
    /// <summary>A small Mlp checkpoint with a training-state tensor and a metadata entry of its own.</summary>
    private static string SaveModel(TempDir dir, Dictionary<string, string>? metadata = null)
    {
        string path = dir.File("model.safetensors");
        using var scope = Tensor.Scope();
        using var net = new Mlp(new MlpConfig(Hidden: 8), new Generator(4));
        var extra = new Dictionary<string, Tensor> { ["train.step_state"] = Tensor.FromSpan([1f, 2f, 3f], [3]) };
        ModelFactory.Save(path, net, extraTensors: extra,
            extraMetadata: metadata ?? new Dictionary<string, string> { ["train.data"] = "toy:moons", ["sigma_data"] = "0.5" });
        return path;
    }

    private static Dictionary<string, float[]> Tensors(string path)
    {
        using var scope = Tensor.Scope();
        return SafeTensors.Load(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private static IReadOnlyDictionary<string, string> Metadata(string path) => SafeTensors.ReadHeader(path).Metadata;

    [Test]
    public void AResumedTrainingRunKeepsTheRecordedDefaults()
    {
        using var dir = new TempDir();
        string run = dir.File("run"), checkpoint = Path.Combine(run, "model.safetensors");
        var train = Dk("train", "--data", "toy:moons", "--steps", "4", "--batch", "32", "--preview", "0", "--out", run);
        Assert.That(train.Code, Is.EqualTo(0), train.Err);
        Assert.That(Dk("set-sampler", "--model", checkpoint, "--steps", "12", "--sigma-max", "10", "--force").Code, Is.EqualTo(0));

        var resumed = Dk("train", "--out", run, "--resume", "--steps", "6");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        var metadata = Metadata(checkpoint);
        Assert.That(metadata["train.step"], Is.EqualTo("6"));
        Assert.That((metadata[SamplerOptions.StepsKey], metadata[SamplerOptions.SigmaMaxKey]), Is.EqualTo(("12", "10")));
        Assert.That(metadata.ContainsKey(SamplerOptions.KindKey), Is.False, "only what was set is recorded");
    }

    [Test]
    public void RecordsDefaultsThatSampleUsesAndKeepsEverythingElse()
    {
        using var dir = new TempDir();
        string path = SaveModel(dir);
        var tensors = Tensors(path);
        var metadata = Metadata(path);

        var set = Dk("set-sampler", "--model", path, "--steps", "40", "--sigma-max", "10", "--force");
        Assert.That(set.Code, Is.EqualTo(0), set.Err);
        Assert.That(set.Out, Does.Contain("heun with 40 levels from σ_max 10: 79 NFE"));
        var after = Metadata(path);
        Assert.That(after[SamplerOptions.StepsKey], Is.EqualTo("40"));
        Assert.That(after[SamplerOptions.SigmaMaxKey], Is.EqualTo("10"));
        Assert.That(after.ContainsKey(SamplerOptions.KindKey), Is.False, "an option not given stays unrecorded");
        Assert.That(after.Where(kv => !kv.Key.StartsWith("sampler", StringComparison.Ordinal)), Is.EquivalentTo(metadata));
        Assert.That(Tensors(path), Is.EqualTo(tensors), "weights and training state are untouched");

        var sample = Dk("sample", "--model", path, "--n", "20");
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("heun with 40 levels: 79 NFE"));
        var flags = Dk("sample", "--model", path, "--n", "20", "--steps", "5", "--sampler", "euler");
        Assert.That(flags.Out, Does.Contain("euler with 5 levels: 5 NFE"), "flags still win over the recorded defaults");

        string recorded = dir.File("recorded.json"), flagged = dir.File("flagged.json");
        var eval = Dk("eval", "--model", path, "--n", "100", "--json", recorded);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("grid: 40 Karras levels, σ 0.002–10, ρ = 7"));
        Assert.That(Dk("eval", "--model", path, "--n", "100", "--steps", "18", "--sigma-max", "80", "--json", flagged).Out,
            Does.Contain("grid: 18 Karras levels, σ 0.002–80, ρ = 7"), "--sigma-max overrides the recorded value");
        Assert.That(Json(recorded).GetProperty("sigma_max").GetDouble(), Is.EqualTo(10));
        Assert.That(Json(recorded).GetProperty("levels").GetInt32(), Is.EqualTo(40));
        Assert.That(Json(flagged).GetProperty("sigma_max").GetDouble(), Is.EqualTo(80));

        var partial = Dk("set-sampler", "--model", path, "--sampler", "euler", "--force");
        Assert.That(partial.Code, Is.EqualTo(0), partial.Err);
        Assert.That(SamplerDefaults.Of(Metadata(path)), Is.EqualTo(new SamplerDefaults(SamplerKind.Euler, 40, 10)), "options not given keep their recorded value");

        var same = Dk("set-sampler", "--model", path, "--steps", "40");
        Assert.That(same.Out, Does.Contain("unchanged"));

        var reset = Dk("set-sampler", "--model", path, "--reset", "--force");
        Assert.That(reset.Code, Is.EqualTo(0), reset.Err);
        Assert.That(Metadata(path), Is.EquivalentTo(metadata));
        Assert.That(Dk("sample", "--model", path, "--n", "20").Out, Does.Contain("heun with 18 levels: 35 NFE"));
        Assert.That(Tensors(path), Is.EqualTo(tensors));
        string plain = dir.File("plain.json");
        Dk("eval", "--model", path, "--n", "100", "--json", plain);
        Assert.That(Json(plain).GetProperty("sliced_wasserstein").GetDouble(), Is.EqualTo(Json(flagged).GetProperty("sliced_wasserstein").GetDouble()),
            "the flags reproduce the generic sampler exactly");
        Assert.That(Json(plain).GetProperty("sliced_wasserstein").GetDouble(), Is.Not.EqualTo(Json(recorded).GetProperty("sliced_wasserstein").GetDouble()));
    }

    [Test]
    public void TheFileIsRewrittenOnlyWithForceOrCopiedToOut()
    {
        using var dir = new TempDir();
        string path = SaveModel(dir);
        var before = File.ReadAllBytes(path);
        AssertOneLineError(Dk("set-sampler", "--model", path, "--steps", "40"), "dk set-sampler: --model ", "rewritten in place", "--force", "--out");
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));

        string copy = dir.File("copy.safetensors");
        var r = Dk("set-sampler", "--model", path, "--steps", "40", "--out", copy);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before), "--out leaves --model as it was");
        Assert.That(SamplerDefaults.Of(Metadata(copy)).Steps, Is.EqualTo(40));
        AssertOneLineError(Dk("set-sampler", "--model", path, "--steps", "30", "--out", copy), "dk set-sampler: --out ", "already exists");
    }

    [Test]
    public void BadValuesAndStudentsAreRefusedWithOneLine()
    {
        using var dir = new TempDir();
        string path = SaveModel(dir);
        var before = File.ReadAllBytes(path);
        foreach (var (args, message) in new[]
        {
            (new[] { "--steps", "0" }, "steps 0 must be ≥ 1"),
            (new[] { "--sigma-max", "0.001" }, "--sigma-max 0.001 must be a finite number above 0.002 (σ_min, where the grid ends)"),
            (new[] { "--sampler", "rk4" }, "unknown sampler 'rk4'"),
        })
        {
            var r = Dk(["set-sampler", "--model", path, .. args]);
            Assert.That(r.Code, Is.EqualTo(2), r.Err);
            Assert.That(r.Err, Does.StartWith("dk set-sampler: ").And.Contain(message));
            Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        }
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before), "a refused change leaves the file as it was");
        var flag = Dk("sample", "--model", path, "--sigma-max", "0");
        Assert.That((flag.Code, flag.Err.Trim()), Is.EqualTo((2, "dk sample: --sigma-max 0 must be a finite number above 0.002 (σ_min, where the grid ends)")));

        using var other = new TempDir();
        string student = SaveModel(other, new Dictionary<string, string>
        {
            ["train.method"] = "diff-instruct", [SamplerOptions.KindKey] = "euler", [SamplerOptions.StepsKey] = "1", [SamplerOptions.SigmaMaxKey] = "2.5",
        });
        var refused = Dk("set-sampler", "--model", student, "--steps", "4");
        Assert.That(refused.Code, Is.EqualTo(2));
        Assert.That(refused.Err, Does.Contain("a training checkpoint of a distilled student (mlp; diff-instruct run); dk set-sampler (a student's or generator's sampler is part of the model) needs a checkpoint of a teacher"));
        Assert.That(Dk("set-sampler", "--model", dir.File("missing.safetensors"), "--steps", "4").Code, Is.EqualTo(2));
    }

    [Test]
    public void MalformedRecordedValuesNameTheirKey()
    {
        Assert.That(() => SamplerDefaults.Of(new Dictionary<string, string> { [SamplerOptions.StepsKey] = "many" }),
            Throws.ArgumentException.With.Message.Contains(SamplerOptions.StepsKey).And.Message.Contains("many"));
        Assert.That(() => SamplerDefaults.Of(new Dictionary<string, string> { [SamplerOptions.SigmaMaxKey] = "x" }),
            Throws.ArgumentException.With.Message.Contains(SamplerOptions.SigmaMaxKey));
        Assert.That(SamplerDefaults.Of(new Dictionary<string, string>()), Is.EqualTo(new SamplerDefaults()));
        var options = new SamplerDefaults(SamplerKind.Euler, 1, 2.5).ApplyTo(new SamplerOptions(Seed: 7));
        Assert.That((options.Kind, options.Steps, options.SigmaMax, options.Seed, options.SigmaMin), Is.EqualTo((SamplerKind.Euler, 1, 2.5, 7UL, 0.002)));
    }
}
