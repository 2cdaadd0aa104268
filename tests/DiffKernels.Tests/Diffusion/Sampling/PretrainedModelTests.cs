using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.IO;
using DiffKernels.Tensors;
using DiffKernels.Tests.Diffusion.Models;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>The library's embedding API on the committed models: defaults, shapes, determinism, classes and errors.</summary>
public class PretrainedModelTests
{
    private const string ToyTeacher = "toy-8gaussians-teacher.safetensors";
    private const string ToyStudent = "toy-8gaussians-diff-instruct.safetensors";
    private const string FashionStudent = "fmnist-diff-instruct-xs.safetensors";
    private const string FashionGan = "fmnist-gan.safetensors";

    private static string Committed(string file) => Path.Combine(RepoFiles.ModelsDir(), file);

    private static PretrainedModel Load(string file) => PretrainedModel.Load(Committed(file));

    [TestCase(ToyTeacher, "mlp", false, SamplerKind.Heun, 35, new[] { 2 }, new[] { 2 }, 0, 0)]
    [TestCase(ToyStudent, "mlp", false, SamplerKind.Euler, 1, new[] { 2 }, new[] { 2 }, 0, 0)]
    [TestCase(FashionStudent, "unet", false, SamplerKind.Euler, 1, new[] { 1, 28, 28 }, new[] { 32, 32, 1 }, 2, 10)]
    [TestCase(FashionGan, "gan_generator", true, SamplerKind.Generator, 1, new[] { 1, 28, 28 }, new[] { 32, 32, 1 }, 2, 10)]
    public void DescribesTheCheckpointAndItsOwnSampler(string file, string kind, bool isGenerator, SamplerKind sampler, int nfe,
        int[] sampleShape, int[] rawShape, int crop, int classes)
    {
        using var model = Load(file);
        Assert.That((model.Kind, model.IsGenerator, model.DefaultOptions.Kind, model.DefaultNfe), Is.EqualTo((kind, isGenerator, sampler, nfe)));
        Assert.That(model.SampleShape, Is.EqualTo(sampleShape));
        Assert.That(model.RawSampleShape, Is.EqualTo(rawShape));
        Assert.That((model.Crop, model.NumClasses), Is.EqualTo((crop, classes)));
    }

    [Test]
    public void TheStudentsSamplerIsTheOneItsCheckpointRecords()
    {
        using var model = Load(ToyStudent);
        Assert.That(model.DefaultOptions, Is.EqualTo(SamplerDefaults.Of(model.Metadata).ApplyTo(new SamplerOptions())));
        Assert.That((model.DefaultOptions.Steps, model.DefaultOptions.SigmaMax), Is.EqualTo((1, 2.5)));
    }

    [TestCase(ToyTeacher)]
    [TestCase(ToyStudent)]
    public void ToyModelsSampleLikeTheDiffusionSamplerTheyWrap(string file)
    {
        using var model = Load(file);
        using var scope = Tensor.Scope();
        var result = model.Sample(6, seed: 4);
        Assert.That(result.Samples.Shape, Is.EqualTo(new Shape(6, 2)));
        Assert.That(result.Nfe, Is.EqualTo(model.DefaultNfe));

        using var loaded = ModelFactory.Load(Committed(file));
        loaded.Model.Eval();
        var direct = DiffusionSampler.Generate(loaded.Net, Edm.FromMetadata(loaded.Metadata), 6, model.DefaultOptions with { Seed = 4 });
        Assert.That(result.Samples.ToArray(), Is.EqualTo(direct.Samples.ToArray()));

        float[] points = model.Generate(6, seed: 4);
        Assert.That(points, Is.EqualTo(direct.Samples.ToArray()), "points export as N×2, as drawn");
        Assert.That(model.Generate(6, seed: 4), Is.EqualTo(points), "same seed, same points");
        Assert.That(model.Generate(6, seed: 5), Is.Not.EqualTo(points));
    }

    [Test]
    public void OptionsOverrideTheDefaultsAndTheSeedArgumentWins()
    {
        using var model = Load(ToyTeacher);
        using var scope = Tensor.Scope();
        var euler = new SamplerOptions(Kind: SamplerKind.Euler, Steps: 4, Seed: 99, BatchSize: 2);
        var result = model.Sample(5, seed: 1, options: euler);
        Assert.That(result.Nfe, Is.EqualTo(4));

        using var loaded = ModelFactory.Load(Committed(ToyTeacher));
        loaded.Model.Eval();
        var direct = DiffusionSampler.Generate(loaded.Net, Edm.FromMetadata(loaded.Metadata), 5, euler with { Seed = 1 });
        Assert.That(result.Samples.ToArray(), Is.EqualTo(direct.Samples.ToArray()));
    }

    [TestCase(FashionStudent)]
    [TestCase(FashionGan)]
    public void ImageModelsGenerateWhatDkSampleWrites(string file)
    {
        using var dir = new TempDir();
        string npy = dir.File("s.npy");
        var cli = Dk("sample", "--model", Committed(file), "--n", "3", "--seed", "5", "--class", "4", "--npy", npy);
        Assert.That(cli.Code, Is.EqualTo(0), cli.Err);
        var (written, shape) = NpyFile.Read(npy);

        using var model = Load(file);
        float[] images = model.Generate(3, seed: 5, classLabel: 4);
        Assert.That(shape, Is.EqualTo(new[] { 3, 1, 28, 28 }));
        Assert.That(images, Is.EqualTo(written), "the same values, laid out N×C×H×W");
        Assert.That(model.Generate(3, seed: 5, classLabel: 4), Is.EqualTo(images), "same seed, same images");
        // Exported images are clipped to the data range (a denoiser's last step overshoots it slightly).
        Assert.That(images, Has.All.InRange(-1f, 1f));
    }

    [Test]
    public void SampleReturnsNhwcImagesWithThePaddingAndLabelsReachTheGenerator()
    {
        using var model = Load(FashionGan);
        using var scope = Tensor.Scope();
        float[] labels = [7, 1, 7];
        var result = model.Sample(3, seed: 2, labels: labels, options: model.DefaultOptions with { BatchSize = 2 });
        Assert.That((result.Samples.Shape, result.Nfe), Is.EqualTo((new Shape(3, 32, 32, 1), 1)));

        using var loaded = ModelFactory.Load(Committed(FashionGan));
        loaded.Model.Eval();
        var direct = GeneratorSampler.Generate((IGenerator)loaded.Model, 3, seed: 2, labels: labels);
        Assert.That(result.Samples.ToArray(), Is.EqualTo(direct.Samples.ToArray()));
    }

    [TestCase(FashionStudent, 1)]
    [TestCase(FashionGan, 1)]
    [TestCase(FashionGan, 7)]
    public void TheRequestedClassIsWhatTheMetricClassifierSees(string file, int cls)
    {
        const int N = 8;
        using var model = Load(file);
        using var clf = Classifier.Load(Committed("fmnist-classifier.safetensors"));
        clf.Eval();
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var images = model.Sample(N, seed: 11, labels: Enumerable.Repeat((float)cls, N).ToArray()).Samples;
        var predicted = ClassifierTraining.ArgMaxRows(clf.Forward(ImageEvaluation.ResetBorder(images, model.Crop)).ToArray(), 10);
        TestContext.Out.WriteLine($"{file}, class {cls}: classified as {string.Join(" ", predicted)}");
        Assert.That(predicted.Count(p => p == cls), Is.GreaterThanOrEqualTo(N - 2));
    }

    [Test]
    public void InvalidArgumentsThrowOneLineErrorsNamingTheArgument()
    {
        using var toy = Load(ToyStudent);
        using var gan = Load(FashionGan);
        using var fashion = Load(FashionStudent);
        void Throws(Action call, string argument, string message)
        {
            var e = Assert.Throws<InvalidInputException>(call)!;
            Assert.That(e.Subject, Is.EqualTo(argument));
            Assert.That(e.Message, Does.StartWith($"{argument}: {message}").And.Not.Contain('\n'));
        }

        Throws(() => gan.Sample(2, options: new SamplerOptions()), "options", "this gan_generator model draws samples in one evaluation");
        Throws(() => gan.Sample(2, options: gan.DefaultOptions with { Guidance = 2 }), "options", "this gan_generator model draws samples in one evaluation");
        Throws(() => toy.Sample(2, options: toy.DefaultOptions with { BatchSize = 0 }), "options", "batch size 0 must be ≥ 1");
        Throws(() => toy.Sample(2, options: toy.DefaultOptions with { Guidance = 2 }), "options", "guidance 2 needs a conditional model; this mlp model is unconditional");
        Throws(() => toy.Sample(2, labels: [0, 0]), "labels", "this mlp model is unconditional");
        Throws(() => toy.Generate(2, classLabel: 0), "classLabel", "this mlp model is unconditional");
        Throws(() => fashion.Generate(2, classLabel: 10), "classLabel", "10 is not a class of this model (10 classes, or −1 for none)");
        Throws(() => fashion.Generate(2, classLabel: -2), "classLabel", "-2 is not a class of this model");
        Throws(() => gan.Generate(2, classLabel: -1), "classLabel", "-1 is not a class of this model (10 classes)");
        Throws(() => gan.Sample(2, labels: [1, 2.5f]), "labels", "2.5 is not a class of this model");
        Throws(() => gan.Sample(2, labels: [1]), "labels", "1 labels for 2 samples");
        Throws(() => fashion.Generate(0), "n", "sample count 0 must be ≥ 1");
        Throws(() => fashion.Generate(-3), "n", "sample count -3 must be ≥ 1");
        Throws(() => toy.Options(steps: 0), "steps", "steps 0 must be ≥ 1");
        Throws(() => toy.Options(sigmaMax: 0.001), "sigmaMax", "σ_max 0.001 must be finite and above σ_min = 0.002");
        Throws(() => toy.Options(batchSize: 0), "batchSize", "batch size 0 must be ≥ 1");
    }

    [TestCase("kind")]
    [TestCase("steps")]
    [TestCase("sigmaMax")]
    [TestCase("threshold")]
    public void AnOptionAGeneratorHasNoUseForIsRefusedNotIgnored(string argument)
    {
        using var gan = Load(FashionGan);
        var e = Assert.Throws<InvalidInputException>(() => _ = argument switch
        {
            "kind" => gan.Options(kind: SamplerKind.Heun),
            "steps" => gan.Options(steps: 4),
            "sigmaMax" => gan.Options(sigmaMax: 10),
            _ => gan.Options(threshold: 1f),
        })!;
        Assert.That(e.Message, Is.EqualTo($"{argument}: this gan_generator model draws samples in one evaluation; it has no sampler, noise levels or thresholding to set"));
        Assert.That(gan.Options(kind: SamplerKind.Generator, steps: 1, seed: 3), Is.EqualTo(gan.DefaultOptions with { Seed = 3, BatchSize = 1024 }), "its own sampler is no error");
        AssertOneLineError(Dk("sample", "--model", Committed(FashionGan), "--n", "1", "--sigma-max", "10"),
            "dk sample: --sigma-max 10: ", "is a gan_generator generator: it draws each sample in one evaluation");
    }

    [Test]
    public void TheUnconditionalBranchOfAConditionalDenoiserTakesLabelMinusOne()
    {
        using var fashion = Load(FashionStudent);
        using var gan = Load(FashionGan);
        Assert.That((fashion.HasUnconditionalBranch, gan.HasUnconditionalBranch), Is.EqualTo((true, false)));
        float[] none = fashion.Generate(2, seed: 3, classLabel: -1);
        Assert.That(none, Has.All.InRange(-1f, 1f));
        Assert.That(none, Is.Not.EqualTo(fashion.Generate(2, seed: 3, classLabel: 0)), "no class is not class 0");
        using var scope = Tensor.Scope();
        Assert.That(fashion.Sample(2, seed: 3, labels: [-1, -1]).Samples.Shape, Is.EqualTo(new Shape(2, 32, 32, 1)));
        var cli = Dk("sample", "--model", Committed(FashionStudent), "--n", "2", "--class", "-1");
        Assert.That(cli.Code, Is.EqualTo(0), cli.Err);
    }

    [Test]
    public void OptionsOverrideOnlyWhatIsGiven()
    {
        using var teacher = Load(ToyTeacher);
        var recorded = teacher.DefaultOptions;
        Assert.That(teacher.Options(seed: 3, batchSize: 7), Is.EqualTo(recorded with { Seed = 3, BatchSize = 7 }));
        Assert.That(teacher.Options(SamplerKind.Euler, steps: 40, sigmaMax: 20), Is.EqualTo(recorded with { Kind = SamplerKind.Euler, Steps = 40, SigmaMax = 20, Seed = 0, BatchSize = 1024 }));
    }

    [Test]
    public void ADisposedModelRefusesToSample()
    {
        var model = Load(ToyStudent);
        model.Dispose();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Generate(1));
    }

    [Test]
    public void ACheckpointThatDrawsNoSamplesIsRefusedByNameInTheLibraryAndTheCli()
    {
        string classifier = Committed("fmnist-classifier.safetensors");
        var e = Assert.Throws<SafeTensorsFormatException>(() => PretrainedModel.Load(classifier))!;
        Assert.That(e.Message, Does.StartWith(classifier).And.Contain("a release checkpoint of a classifier (classifier); sampling needs a checkpoint of a teacher, a distilled student or a GAN generator"));
        var cli = Dk("sample", "--model", classifier, "--n", "1");
        Assert.That((cli.Code, cli.Err.TrimEnd().Split('\n').Length), Is.EqualTo((2, 1)), cli.Err);
        Assert.That(cli.Err, Does.StartWith("dk sample: " + classifier));
    }

    [Test]
    public void AMalformedSigmaDataIsRefusedByNameInTheLibraryAndTheCli()
    {
        using var dir = new TempDir();
        string path = dir.File("bad-sigma.safetensors");
        using (Tensor.Scope())
        {
            var file = SafeTensors.Load(Committed("toy-8gaussians-teacher.safetensors"));
            var metadata = new Dictionary<string, string>(file.Metadata) { [Edm.SigmaDataKey] = "half" };
            SafeTensors.Save(path, file.Tensors, metadata);
        }
        var e = Assert.Throws<SafeTensorsFormatException>(() => PretrainedModel.Load(path))!;
        Assert.That(e.Message, Does.StartWith(path).And.Contain("'sigma_data' = 'half' is not a positive number"));
        var cli = Dk("sample", "--model", path, "--n", "1");
        Assert.That((cli.Code, cli.Err.TrimEnd().Split('\n').Length), Is.EqualTo((2, 1)), cli.Err);
    }
}
