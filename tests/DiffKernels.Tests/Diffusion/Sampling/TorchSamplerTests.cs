using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffKernels.Bench.Baselines;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>
/// The PyTorch sampler of `dk bench`'s sampling cases (bench/torch/sampling.py) draws the images ours draws: the committed
/// teacher with its recorded sampler (Heun, 18 Karras levels, 35 evaluations) and the one-step student, from the same
/// noise and labels on two images. Runs where Python can import torch (Debian's python3-torch), else is skipped saying so.
/// </summary>
[NonParallelizable]
public class TorchSamplerTests
{
    // Float32 on both sides, different kernels and summation orders: differences are rounding (seen: 6e-7 after the
    // teacher's 35 evaluations, 9e-6 for the student, on samples up to about 1.2).
    private const double Tolerance = 1e-4;
    private const int N = 2;
    private const ulong Seed = 3;
    private static readonly Lazy<string?> Python = new(() => TorchBaseline.FindPython(null));

    private static string Script => RepoFiles.At("bench", "torch", "sampling.py");

    [TestCase("fmnist-teacher-xs.safetensors", "heun", 35)]
    [TestCase("fmnist-diff-instruct-xs.safetensors", "euler", 1)]
    public void PyTorchDrawsTheSameImagesFromTheSameNoise(string file, string sampler, int nfe)
    {
        string python = Python.Value ?? throw new IgnoreException("PyTorch is not installed (Debian's python3-torch): the sampler check did not run");
        using var dir = new TempDir();
        string checkpoint = Path.Combine(RepoFiles.ModelsDir(), file), casePath = dir.File("case.safetensors");
        using (var model = PretrainedModel.Load(checkpoint))
        using (Tensor.Scope())
        {
            Assert.That(model.DefaultNfe, Is.EqualTo(nfe));
            var labels = new[] { 0f, 1f };
            var drawn = model.Sample(N, Seed, labels);
            // The sampler's initial noise: Generator(seed) over the whole draw, unit normal, NHWC.
            var noise = new Generator(Seed).Normal(drawn.Samples.Shape);
            SafeTensors.Save(casePath, new Dictionary<string, Tensor>
            {
                ["noise"] = noise, ["labels"] = Tensor.FromArray(labels, N), ["expected"] = drawn.Samples,
            });
        }
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Script, "check", checkpoint, casePath, "--tolerance", Tolerance.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        TestContext.Out.WriteLine(stdout.Trim());
        Assert.That(p.ExitCode, Is.EqualTo(0), stdout + err.Result);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.That(report.GetProperty("sampler").GetString(), Is.EqualTo(sampler));
        Assert.That(report.GetProperty("max_abs_diff").GetDouble(), Is.LessThanOrEqualTo(Tolerance));
        Assert.That(report.GetProperty("max_abs_output").GetDouble(), Is.GreaterThan(0.5), "images, not a blank");
    }
}
