using System.Security.Cryptography;
using System.Text;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Tests.IO;

namespace DiffKernels.Tests.Training;

/// <summary>
/// Committed checkpoints of each run kind resume and continue for two steps, and what they then hold (every tensor,
/// every metadata value but the options JSON) and what they sample are the digests the runs gave before the run
/// framework existed.
/// </summary>
public class CommittedRunTests
{
    private static string Model(string name) => Path.Combine(Diffusion.ClassifierTests.ModelsDir(), name);

    /// <summary>SHA-256 over the file's tensors (name, shape, values) and metadata, both in name order.</summary>
    private static string Digest(string path)
    {
        var file = SafeTensors.Load(path);
        var text = new StringBuilder();
        foreach (var (key, value) in file.Metadata.Where(kv => kv.Key != "train.options").OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append(key).Append('=').Append(value).Append('\n');
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(text.ToString()));
        foreach (var (name, t) in file.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            bytes.AddRange(Encoding.UTF8.GetBytes($"{name}{t.Shape}"));
            bytes.AddRange(FloatBytes(t.ToArray()));
        }
        return Convert.ToHexString(SHA256.HashData(bytes.ToArray()));
    }

    private static byte[] FloatBytes(float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    private static string SampleDigest(string path)
    {
        using var model = PretrainedModel.Load(path);
        return Convert.ToHexString(SHA256.HashData(FloatBytes(model.Generate(16, seed: 5))));
    }

    private static void AssertDigests(string path, string file, string samples)
    {
        Assert.That(Digest(path), Is.EqualTo(file), "the checkpoint's tensors and metadata");
        Assert.That(SampleDigest(path), Is.EqualTo(samples), "what it samples");
    }

    [Test]
    public void TheCommittedToyTeacherResumesForTwoSteps()
    {
        using var dir = new TempDir();
        using (var t = EdmTrainer.Resume(Model("toy-8gaussians-teacher.safetensors"), ToyDataSource.FromSpec("toy:8gaussians"), steps: 12_002, outDir: dir.Path,
                   bookkeeping: o => o with { PreviewSamples = 0 }))
        {
            Assert.That(t.Run().Step, Is.EqualTo(12_002));
        }
        AssertDigests(dir.File(EdmTrainer.CheckpointFile),
            "6CA7D6F8CF35BC622D1794FA1C7631F5E31C8E78EE942D1DEC50575F1F7EF075", "4B4576A6B1CD7BB234D66A3C9EE9577753126ADFF2A2C95E6EEB04EA46DB768A");
    }

    [Test]
    public void TheCommittedToyStudentResumesForTwoSteps()
    {
        using var dir = new TempDir();
        using (var d = DiffInstructDistiller.Resume(Model("toy-8gaussians-diff-instruct.safetensors"), FrozenTeacher.Load(Model("toy-8gaussians-teacher.safetensors")),
                   steps: 20_002, outDir: dir.Path, changes: o => o with { PreviewSamples = 0 }))
        {
            Assert.That(d.Run().Step, Is.EqualTo(20_002));
        }
        AssertDigests(dir.File(DiffInstructDistiller.CheckpointFile),
            "CFB05862870916843BC66DBA37EE9387CB39AC53A0E5AADC8F7B68ED768D4263", "CD5589B095F2CCEAAC592C5987DAE7D43DDAC6E802E65008FC27553BC1172491");
    }

    [Test]
    public void TheCommittedGanResumesForTwoSteps()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory)) Assert.Ignore("Fashion-MNIST is not installed");
        using var dir = new TempDir();
        using (var g = GanTrainer.Resume(Model("fmnist-gan.safetensors"), ImageDataSource.FromSpec("fmnist")!, steps: 1_550, outDir: dir.Path,
                   bookkeeping: o => o with { PreviewSamples = 0 }))
        {
            Assert.That(g.Run().Step, Is.EqualTo(1_550));
        }
        AssertDigests(dir.File(GanTrainer.CheckpointFile),
            "281BEC6BC480A21BB22510A43D91656FDBE3556E253DA6F920CE3699EA2A77F3", "685E1C614E07F43A9FA8B76C0DFBAAEA2C838FE2886592DC92E23D787B785D63");
    }
}
