using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffKernels.Bench.Baselines;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

/// <summary>
/// Checkpoints cross to PyTorch and back (bench/torch/dk_models.py, interop.py): a DiffKernels checkpoint of each
/// network loads there by name and denoises the same inputs to the same output, and a PyTorch-initialised checkpoint
/// loads here, denoises like PyTorch and samples. Runs where Python can import torch (Debian's python3-torch), else is
/// skipped saying so.
/// </summary>
[NonParallelizable]
public class TorchInteropTests
{
    // Float32 on both sides, different kernels and summation orders: differences are rounding (seen: up to 5e-6 on
    // outputs of about 4).
    private const double Tolerance = 1e-4;
    private static readonly Lazy<string?> Python = new(() => TorchBaseline.FindPython(null));

    private static string Script => RepoFiles.At("bench", "torch", "interop.py");

    private static string RequirePython() =>
        Python.Value ?? throw new IgnoreException("PyTorch is not installed (Debian's python3-torch): the interop check did not run");

    /// <summary>A network of every kind with PyTorch's parameter names; the zero-initialised output layers get random weights too.</summary>
    private static Module Network(string name) => name switch
    {
        "mlp" => new Mlp(new MlpConfig(NumClasses: 3), new Generator(1)),
        "unet-xs" => new UNet(UNetConfig.XS(10), new Generator(2)),
        "unet-s" => new UNet(UNetConfig.S(10), new Generator(3)),
        "dit-s4" => new DiT(DiTConfig.S4(10), new Generator(4)),
        _ => throw new ArgumentException(name),
    };

    private static void Randomise(Module model, ulong seed)
    {
        var gen = new Generator(seed);
        using var scope = Tensor.Scope();
        model.LoadStateDict(model.StateDict().ToDictionary(kv => kv.Key, kv => gen.Normal(kv.Value.Shape, std: 0.1f)));
    }

    private static (Tensor X, Tensor Sigma, Tensor? Labels) Inputs(INoiseNet net)
    {
        const int N = 4;
        var x = new Generator(7).Normal(new Shape([N, .. net.SampleShape.ToArray()]));
        var sigma = Tensor.FromArray(new[] { 0.01f, 0.3f, 2f, 40f }, N);
        var labels = net.NumClasses > 0 ? Tensor.FromArray(new[] { 0f, 1f, 2f, -1f }, N) : null;
        return (x, sigma, labels);
    }

    private static (int Code, string Out, string Err) Run(string python, params string[] args)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Script }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, err.Result);
    }

    [TestCase("mlp")]
    [TestCase("unet-xs")]
    [TestCase("unet-s")]
    [TestCase("dit-s4")]
    public void ADiffKernelsCheckpointLoadsInPyTorchByNameAndDenoisesAlike(string name)
    {
        string python = RequirePython();
        using var dir = new TempDir();
        string checkpoint = dir.File("model.safetensors"), casePath = dir.File("case.safetensors");
        using (var model = Network(name))
        {
            Randomise(model, 11);
            ModelFactory.Save(checkpoint, model);
        }
        using (var loaded = ModelFactory.Load(checkpoint))
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            loaded.Model.Eval();
            var (x, sigma, labels) = Inputs(loaded.Net);
            var expected = Edm.FromMetadata(loaded.Metadata).Denoise(loaded.Net, x, sigma, labels);
            var tensors = new Dictionary<string, Tensor> { ["x"] = x, ["sigma"] = sigma, ["expected"] = expected };
            if (labels != null) tensors["labels"] = labels;
            SafeTensors.Save(casePath, tensors);
        }
        var r = Run(python, "check", checkpoint, casePath, "--tolerance", Tolerance.ToString(CultureInfo.InvariantCulture));
        TestContext.Out.WriteLine($"{name}: {r.Out.Trim()}");
        Assert.That(r.Code, Is.EqualTo(0), r.Out + r.Err);
        var report = JsonDocument.Parse(r.Out).RootElement;
        Assert.That(report.GetProperty("max_abs_diff").GetDouble(), Is.LessThanOrEqualTo(Tolerance));
        Assert.That(report.GetProperty("max_abs_output").GetDouble(), Is.GreaterThan(0.1), "a denoiser that outputs something");
    }

    [Test]
    public void TheCommittedStudentLoadsInPyTorchAndDenoisesAlike()
    {
        string python = RequirePython();
        using var dir = new TempDir();
        string checkpoint = Path.Combine(RepoFiles.ModelsDir(), "fmnist-diff-instruct-xs.safetensors"), casePath = dir.File("case.safetensors");
        using (var loaded = ModelFactory.Load(checkpoint))
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            loaded.Model.Eval();
            var (x, sigma, labels) = Inputs(loaded.Net);
            SafeTensors.Save(casePath, new Dictionary<string, Tensor>
            {
                ["x"] = x, ["sigma"] = sigma, ["labels"] = labels!, ["expected"] = Edm.FromMetadata(loaded.Metadata).Denoise(loaded.Net, x, sigma, labels),
            });
        }
        var r = Run(python, "check", checkpoint, casePath, "--tolerance", Tolerance.ToString(CultureInfo.InvariantCulture));
        TestContext.Out.WriteLine(r.Out.Trim());
        Assert.That(r.Code, Is.EqualTo(0), r.Out + r.Err);
    }

    [TestCase("mlp", """{"dim":2,"hidden":64,"layers":3,"time_features":32,"time_scale":16,"time_max_period":100,"num_classes":3}""")]
    [TestCase("unet", """{"image_size":32,"channels":1,"base_channels":16,"multipliers":[1,2,2],"res_blocks":1,"attention_resolutions":[8],"groups":8,"time_features":32,"embed_dim":128,"num_classes":10}""")]
    [TestCase("unet", """{"image_size":32,"channels":1,"base_channels":32,"multipliers":[1,2,2],"res_blocks":2,"attention_resolutions":[8],"groups":8,"time_features":32,"embed_dim":128,"num_classes":10}""")]
    [TestCase("dit", """{"image_size":32,"channels":1,"patch":4,"width":192,"depth":6,"heads":3,"mlp_ratio":4,"time_features":256,"num_classes":10}""")]
    public void APyTorchCheckpointLoadsHereDenoisesAlikeAndSamples(string kind, string config)
    {
        string python = RequirePython();
        using var dir = new TempDir();
        string checkpoint = dir.File("torch.safetensors"), casePath = dir.File("case.safetensors");
        var r = Run(python, "init", kind, config, checkpoint, casePath, "--seed", "5");
        Assert.That(r.Code, Is.EqualTo(0), r.Out + r.Err);

        using (var loaded = ModelFactory.Load(checkpoint))
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            loaded.Model.Eval();
            var c = SafeTensors.Load(casePath).Tensors;
            var d = Edm.FromMetadata(loaded.Metadata).Denoise(loaded.Net, c["x"], c["sigma"], c.GetValueOrDefault("labels"));
            float diff = d.ToArray().Zip(c["expected"].ToArray(), (a, b) => MathF.Abs(a - b)).Max();
            TestContext.Out.WriteLine($"{kind}: PyTorch → DiffKernels max abs difference {diff:E2} (outputs up to {c["expected"].ToArray().Max(MathF.Abs):F2})");
            Assert.That(diff, Is.LessThanOrEqualTo(Tolerance));
        }

        using var model = PretrainedModel.Load(checkpoint);
        float[] samples = model.Generate(2, seed: 1);
        Assert.That(samples, Has.Length.EqualTo(2 * (int)model.SampleShape.Numel));
        Assert.That(samples.All(float.IsFinite));
    }
}
