using DiffKernels.Bench;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Gpu;
using DiffKernels.Gpu.Checks;
using DiffKernels.IO;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// --device on the verbs: a toy teacher trained through the CLI on the emulator lands where the CPU run does
/// (EMA weights within a normalised error of 1e-8, relative RMS 1e-4, after 20 Adam steps) and its checkpoint
/// loads and samples on the CPU; bad or absent devices are one-line user errors; dk bench reaches the GPU cases.
/// </summary>
public class DeviceCliTests
{
    private static float[] EmaWeights(string checkpoint)
    {
        using var scope = Tensor.Scope();
        var file = SafeTensors.Load(checkpoint, Device.Cpu);
        return file.Tensors.Where(kv => !kv.Key.StartsWith("train.", StringComparison.Ordinal)).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.ToArray()).ToArray();
    }

    [Test]
    public void TrainOnTheEmulatorMatchesTheCpuAndItsCheckpointSamplesOnTheCpu()
    {
        using var dir = new TempDir();
        string[] Args(string device) =>
            ["train", "--data", "toy:8gaussians", "--device", device, "--steps", "20", "--batch", "16", "--preview", "0", "--checkpoint-every", "0", "--out", dir.File(device)];
        var gpu = Dk(Args("cpu-emulator"));
        Assert.That(gpu.Code, Is.EqualTo(0), gpu.Err);
        Assert.That(gpu.Out, Does.Contain("done: 20 steps"));
        var cpu = Dk(Args("cpu"));
        Assert.That(cpu.Code, Is.EqualTo(0), cpu.Err);

        string checkpoint = Path.Combine(dir.File("cpu-emulator"), "model.safetensors");
        double error = OpMatrixRunner.NormalisedError(EmaWeights(checkpoint), EmaWeights(Path.Combine(dir.File("cpu"), "model.safetensors")));
        TestContext.Out.WriteLine($"EMA weights after 20 steps: {error:0.00e+00}");
        Assert.That(error, Is.LessThanOrEqualTo(1e-8));

        using var model = PretrainedModel.Load(checkpoint, Device.Cpu);
        var points = model.Generate(16, seed: 1);
        Assert.That(points, Has.Length.EqualTo(32));
        Assert.That(points.All(float.IsFinite));
    }

    [TestCase("train", "--data", "toy:8gaussians", "--out", "out")]
    [TestCase("sample", "--model", "m.safetensors")]
    [TestCase("eval", "--model", "m.safetensors")]
    [TestCase("distill", "diff-instruct", "--teacher", "m.safetensors", "--out", "out")]
    [TestCase("train-gan", "--data", "fmnist", "--out", "out")]
    [TestCase("quickstart", "--steps", "1", "--out", "out")]
    public void AnUnknownDeviceIsAOneLineUserError(params string[] verb)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.safetensors"), "");
        var args = verb.Select(a => a is "m.safetensors" or "out" ? dir.File(a) : a).ToList();
        var (code, _, err) = Dk([.. args, "--device", "tpu"]);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(err, Does.Contain("--device tpu: expected one of cpu, auto, cuda, opencl, cpu-emulator"));
    }

    [Test]
    public void AnAbsentGpuKindIsAOneLineUserError()
    {
        var gpus = GpuDevices.List();
        Assume.That(gpus.Any(g => g.Kind == GpuKind.Cuda), Is.False, "a CUDA device is present");
        using var dir = new TempDir();
        var (code, _, err) = Dk("train", "--data", "toy:8gaussians", "--device", "cuda", "--out", dir.Path);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err.TrimEnd(), Is.EqualTo("dk train: --device cuda: no CUDA device found (dk info lists the backends)"));
        using var auto = DeviceChoice.Open("auto");
        Assert.That(auto.Device, Is.SameAs(Device.Cpu), "auto falls back to the CPU without CUDA");
    }

    /// <summary>The bench cases are full size, too big for the emulator beyond one run of one case.</summary>
    [Test]
    public void BenchOpensTheEmulatorAndRunsACaseOnIt()
    {
        using var on = BenchSession.Open("cpu-emulator");
        Assert.That(on.Backend, Is.Not.Null);
        var once = new DiffKernels.Bench.Harness.TimingOptions(WarmupRuns: 0, WarmupSeconds: 0, MinRuns: 1, MaxRuns: 1, MinSeconds: 0);
        var r = BenchRunner.Run(BenchCatalog.Select(["adam"]).Single(), on.Device.Backend, once, withBaseline: false);
        Assert.That(r.Backend, Is.EqualTo("cpu-emulator"));
        Assert.That(r.Ours, Is.GreaterThan(0));
        var (code, _, err) = Dk("bench", "adam", "--backend", "gpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("unknown backend 'gpu' (available: cpu, cuda, opencl, cpu-emulator)"));
    }
}
