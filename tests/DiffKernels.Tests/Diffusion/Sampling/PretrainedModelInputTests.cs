using DiffKernels.Diffusion.Sampling;
using DiffKernels.Gpu;
using DiffKernels.IO;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>
/// Bad checkpoints and settings reach an embedding application as one exception type, <see cref="InvalidInputException"/>,
/// whose one-line message starts with the file or argument at fault; the CLI reports the same as one line and exit 2.
/// </summary>
public class PretrainedModelInputTests
{
    private static string Committed(string file) => Path.Combine(RepoFiles.ModelsDir(), file);

    private static readonly string Toy = Committed("toy-8gaussians-teacher.safetensors");
    private static readonly string Fashion = Committed("fmnist-diff-instruct-xs.safetensors");

    /// <summary>A copy of <paramref name="source"/> with its tensors changed by <paramref name="edit"/> (and its metadata by <paramref name="meta"/>).</summary>
    private static string Edited(TempDir dir, string source, Action<Dictionary<string, Tensor>> edit, IReadOnlyDictionary<string, string>? meta = null)
    {
        string path = dir.File("edited.safetensors");
        using var scope = Tensor.Scope();
        var file = SafeTensors.Load(source);
        var tensors = new Dictionary<string, Tensor>(file.Tensors);
        edit(tensors);
        SafeTensors.Save(path, tensors, meta ?? file.Metadata);
        return path;
    }

    private static void Refused(string path, params string[] parts)
    {
        var e = Assert.Throws(Is.InstanceOf<InvalidInputException>(), () => PretrainedModel.Load(path).Dispose())!;
        Assert.That(((InvalidInputException)e).Subject, Is.EqualTo(path));
        Assert.That(e.Message, Does.StartWith(path + ": ").And.Not.Contain('\n'));
        foreach (string part in parts) Assert.That(e.Message, Does.Contain(part));
        AssertOneLineError(Dk("sample", "--model", path, "--n", "1"), $"dk sample: {path}: ", parts);
    }

    [Test]
    public void AMissingFileIsNamed()
    {
        using var dir = new TempDir();
        Refused(dir.File("absent.safetensors"), "no such file");
    }

    [Test]
    public void ATruncatedFileIsNamed()
    {
        using var dir = new TempDir();
        string path = dir.File("truncated.safetensors");
        var bytes = File.ReadAllBytes(Toy);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        Refused(path);
    }

    [Test]
    public void AMissingTensorIsNamed()
    {
        using var dir = new TempDir();
        string removed = "";
        string path = Edited(dir, Toy, t => t.Remove(removed = t.Keys.First(k => !k.StartsWith("train.", StringComparison.Ordinal))));
        Refused(path, "weights do not fit model 'mlp'", removed);
    }

    [Test]
    public void AMisShapedTensorIsNamed()
    {
        using var dir = new TempDir();
        string changed = "";
        string path = Edited(dir, Toy, t =>
        {
            changed = t.Keys.First(k => !k.StartsWith("train.", StringComparison.Ordinal));
            t[changed] = Tensor.Zeros([(int)t[changed].Shape.Numel + 1]);
        });
        Refused(path, "weights do not fit model 'mlp'", changed);
    }

    [Test]
    public void ACheckpointOfAnotherArchitectureIsNamed()
    {
        using var dir = new TempDir();
        // The toy Mlp's weights under the Fashion-MNIST U-Net's description.
        string path = Edited(dir, Toy, _ => { }, SafeTensors.ReadHeader(Fashion).Metadata);
        Refused(path, "weights do not fit model 'unet'");
    }

    [Test]
    public void WeightsThatAreNotFiniteAreNamed()
    {
        using var dir = new TempDir();
        string changed = "";
        string path = Edited(dir, Toy, t =>
        {
            changed = t.Keys.First(k => !k.StartsWith("train.", StringComparison.Ordinal));
            var v = t[changed].ToArray();
            v[0] = float.NaN;
            t[changed] = Tensor.FromArray(v, t[changed].Shape.ToArray());
        });
        Refused(path, $"tensor '{changed}' holds NaN or infinite values");
    }

    [Test]
    public void SamplesThatComeOutNaNAreReportedNotReturned()
    {
        using var model = PretrainedModel.Load(Toy);
        // σ_max is finite as a double but overflows float32: the first noise is infinite and every step NaN.
        var options = model.Options(SamplerKind.Euler, steps: 2, sigmaMax: 1e39);
        using var scope = Tensor.Scope();
        var e = Assert.Throws<InvalidInputException>(() => model.Sample(3, options: options))!;
        Assert.That(e.Subject, Is.EqualTo(Toy));
        Assert.That(e.Message, Does.Contain("3 of 3 samples came out NaN or infinite (euler, 2 levels, σ_max 1E+39)"));
    }

    [Test]
    public void AnAcceleratorTheMachineLacksIsNamed()
    {
        try
        {
            DeviceChoice.Open("opencl").Dispose();
            Assert.Ignore("this machine has an OpenCL GPU");
        }
        catch (GpuUnavailableException e)
        {
            InvalidInputException asInput = e;
            Assert.That((asInput.Subject, asInput.Message), Is.EqualTo(("opencl", "opencl: no OpenCL device")));
        }
        var unknown = Assert.Throws<InvalidInputException>(() => DeviceChoice.Open("tpu"))!;
        Assert.That(unknown.Message, Does.StartWith("tpu: unknown device; expected one of cpu, auto, cuda"));
    }
}
