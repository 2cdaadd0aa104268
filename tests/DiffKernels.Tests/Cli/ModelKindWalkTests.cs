using DiffKernels.Diffusion.Models;
using DiffKernels.Random;
using DiffKernels.Tests.Diffusion.Models;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>
/// Every verb that takes a model, over every kind of model file (the committed release checkpoints, fresh training
/// checkpoints, a discriminator): the kinds a verb takes run (on a step or two), the others are refused with exit 2
/// and one line naming what was given and what is needed, never a stack trace.
/// </summary>
[NonParallelizable]
public class ModelKindWalkTests
{
    private const string ToyTeacher = "teacher (release, committed)";
    private const string ToyStudent = "one-step student (release, committed)";
    private const string Gan = "GAN generator (release, committed)";
    private const string RefinedGan = "refined GAN generator (release, committed)";
    private const string CommittedClassifier = "classifier (committed)";
    private const string TeacherRun = "teacher (training)";
    private const string StudentRun = "one-step student (training)";
    private const string GanRun = "GAN generator (training)";
    private const string Discriminator = "GAN discriminator";

    private static readonly string[] Kinds = [ToyTeacher, ToyStudent, Gan, RefinedGan, CommittedClassifier, TeacherRun, StudentRun, GanRun, Discriminator];

    private TempDir _dir = null!;
    private readonly Dictionary<string, string> _files = [];
    private string _data = null!, _classifier = null!, _imageTeacher = null!;
    private int _fresh;

    /// <summary>A verb: its arguments for a model file and a fresh path, and the kinds it takes.</summary>
    private sealed record Verb(Func<ModelKindWalkTests, string, string, string[]> Args, params string[] Takes);

    private static readonly Dictionary<string, Verb> Verbs = new()
    {
        ["sample --model"] = new((_, m, _) => ["sample", "--model", m, "--n", "2"], ToyTeacher, ToyStudent, Gan, RefinedGan, TeacherRun, StudentRun, GanRun),
        ["eval --model"] = new((t, m, _) => ["eval", "--model", m, "--n", "8", "--data-dir", t._data, "--classifier", t._classifier],
            ToyTeacher, ToyStudent, Gan, RefinedGan, TeacherRun, StudentRun, GanRun),
        ["eval --classifier"] = new((t, m, _) => ["eval", "--model", t._files[Gan], "--n", "8", "--data-dir", t._data, "--classifier", m], CommittedClassifier),
        ["set-sampler --model"] = new((_, m, fresh) => ["set-sampler", "--model", Copy(m, fresh + ".safetensors"), "--steps", "20", "--force"], ToyTeacher, TeacherRun),
        ["distill diff-instruct --teacher"] = new((_, m, fresh) => ["distill", "diff-instruct", "--teacher", m, "--steps", "1", "--batch", "4", "--preview", "0", "--out", fresh], ToyTeacher),
        ["distill diff-instruct --generator"] = new((t, m, fresh) => ["distill", "diff-instruct", "--teacher", t.TeacherFor(m), "--generator", m, "--steps", "1", "--batch", "2",
            "--preview", "0", "--out", fresh], ToyStudent, Gan, RefinedGan),
        ["distill diff-instruct --resume"] = new((_, m, fresh) => ["distill", "diff-instruct", "--out", InRun(m, fresh, "student.safetensors"), "--resume", "--steps", "2"], StudentRun),
        ["distill boot --teacher"] = new((_, m, fresh) => ["distill", "boot", "--teacher", m, "--steps", "1", "--batch", "4", "--preview", "0", "--out", fresh], ToyTeacher),
        ["distill boot --resume"] = new((_, m, fresh) => ["distill", "boot", "--out", InRun(m, fresh, "student.safetensors"), "--resume", "--steps", "2"]),
        ["train --resume"] = new((_, m, fresh) => ["train", "--out", InRun(m, fresh, "model.safetensors"), "--resume", "--steps", "3"], TeacherRun),
        ["train --init-from"] = new((_, m, fresh) => ["train", "--data", "toy:8gaussians", "--init-from", m, "--steps", "1", "--batch", "16", "--preview", "0", "--out", fresh], ToyTeacher),
        ["finetune --teacher"] = new((_, m, fresh) => ["finetune", "--teacher", m, "--steps", "1", "--batch", "16", "--preview", "0", "--out", fresh], ToyTeacher),
        ["train-gan --resume"] = new((t, m, fresh) => ["train-gan", "--out", InRun(m, fresh, "gan.safetensors"), "--resume", "--steps", "2", "--data-dir", t._data], GanRun),
        ["train-gan --init-from"] = new((t, m, fresh) => ["train-gan", "--data", "fmnist:12", "--data-dir", t._data, "--init-from", m, "--steps", "1", "--batch", "4",
            "--preview", "0", "--out", fresh], Gan, RefinedGan),
        ["export --model"] = new((_, m, fresh) => ["export", "--model", m, "--out", fresh + ".safetensors"], TeacherRun, StudentRun, GanRun),
        ["quickstart --toy-student"] = new((t, m, fresh) => t.Quickstart(fresh, "--toy-student", m), ToyStudent, StudentRun),
        // Every teacher here is a toy's, so the Fashion-MNIST row refuses them all (QuickstartStudentTests runs an image model in the Fashion-MNIST rows).
        ["quickstart --fmnist-model"] = new((t, m, fresh) => t.Quickstart(fresh, "--fmnist-model", m)),
        ["quickstart --classifier"] = new((t, m, fresh) => t.Quickstart(fresh, "--classifier", m), CommittedClassifier),
    };

    private static IEnumerable<TestCaseData> Cases() =>
        from verb in Verbs.Keys from kind in Kinds select new TestCaseData(verb, kind).SetName($"{verb} given a {kind}");

    [OneTimeSetUp]
    public void MakeOneFileOfEachKind()
    {
        _dir = new TempDir();
        string models = RepoFiles.ModelsDir();
        _files[ToyTeacher] = Path.Combine(models, "toy-8gaussians-teacher.safetensors");
        _files[ToyStudent] = Path.Combine(models, "toy-8gaussians-diff-instruct.safetensors");
        _files[Gan] = Path.Combine(models, "fmnist-gan.safetensors");
        _files[RefinedGan] = Path.Combine(models, "fmnist-gan-di.safetensors");
        _files[CommittedClassifier] = Path.Combine(models, "fmnist-classifier.safetensors");
        _data = FakeFashion.Write(_dir, 12);
        _classifier = FakeFashion.TinyClassifier(_dir);
        _imageTeacher = _dir.File("image-teacher.safetensors");
        using (var net = new UNet(UNetConfig.XS(10) with { BaseChannels = 8, Groups = 4 }, new Generator(3)))
            ModelFactory.Save(_imageTeacher, net, extraMetadata: new Dictionary<string, string> { ["data"] = "fmnist:12", ["crop"] = "2" });
        _files[TeacherRun] = Run("model.safetensors", "train", "--data", "toy:8gaussians", "--steps", "2", "--batch", "16", "--preview", "0");
        _files[StudentRun] = Run("student.safetensors", "distill", "diff-instruct", "--teacher", _files[ToyTeacher], "--steps", "1", "--batch", "4", "--preview", "0");
        _files[GanRun] = Run("gan.safetensors", "train-gan", "--data", "fmnist:12", "--data-dir", _data, "--steps", "1", "--batch", "4", "--preview", "0");
        _files[Discriminator] = _dir.File("discriminator.safetensors");
        using (var disc = new GanDiscriminator(GanConfig.FashionMnist(), new Generator(5)))
            ModelFactory.Save(_files[Discriminator], disc);
    }

    [OneTimeTearDown]
    public void RemoveThem() => _dir.Dispose();

    [TestCaseSource(nameof(Cases))]
    public void TakesItsKindsAndRefusesTheOthersInOneLine(string verb, string kind)
    {
        string model = _files[kind];
        var r = Dk(Verbs[verb].Args(this, model, _dir.File($"fresh{_fresh++}")));
        if (Verbs[verb].Takes.Contains(kind))
        {
            Assert.That(r.Code, Is.EqualTo(0), r.Err);
            return;
        }
        Assert.That(r.Code, Is.EqualTo(2), r.Out + r.Err);
        Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace: " + r.Err);
        Assert.That(r.Err, Does.StartWith($"dk {verb[..verb.IndexOf(" -", StringComparison.Ordinal)]}: "));
        Assert.That(r.Err, Does.Contain(CheckpointKind.Of(model).Description + "; ").And.Contain(" needs "), "names what it got and what it needs");
    }

    private string Run(string file, params string[] args)
    {
        string run = _dir.File($"run{_fresh++}");
        var r = Dk([.. args, "--out", run]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        return Path.Combine(run, file);
    }

    // The image teacher for image generators, the committed toy teacher for the toy student.
    private string TeacherFor(string generator) =>
        CheckpointKind.Of(generator).Model == GanConfig.GeneratorKind ? _imageTeacher : _files[ToyTeacher];

    // The quickstart with every model left out ("none": each only loses its row) but the one under test.
    private string[] Quickstart(string fresh, string option, string model)
    {
        var models = new Dictionary<string, string>
        {
            ["--toy-student"] = "none",
            ["--fmnist-model"] = "none",
            ["--fmnist-student"] = "none",
            ["--toy-boot-student"] = "none",
            ["--fmnist-boot-student"] = "none",
            ["--classifier"] = "none",
            [option] = model,
        };
        return ["quickstart", "--out", fresh, "--steps", "1", "--samples", "100", .. models.SelectMany(kv => new[] { kv.Key, kv.Value })];
    }

    private static string Copy(string model, string to)
    {
        File.Copy(model, to);
        return to;
    }

    // A resume reads the run's checkpoint by its fixed name in --out.
    private static string InRun(string model, string run, string name)
    {
        Directory.CreateDirectory(run);
        File.Copy(model, Path.Combine(run, name));
        return run;
    }
}
