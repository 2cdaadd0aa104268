using System.Runtime.InteropServices;
using System.Security.Cryptography;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

/// <summary>
/// Every committed model draws exactly the samples it drew before it was exported as a release checkpoint: the
/// SHA-256 of the raw float samples (seed 5, the model's own sampler) was recorded from the training checkpoints
/// the models were committed as (for the F16 exports, `dk export --dtype f16`, from the release files themselves, whose
/// rounded weights are what was evaluated), and the classifier's from its logits on fixed inputs.
/// </summary>
public class CommittedModelFingerprintTests
{
    private const ulong Seed = 5;

    private static string Hash(Tensor t) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(t.ToArray().AsSpan())));

    [TestCase("toy-8gaussians-teacher", 64, "555fe9a022d8c689562d5c2c852e127b87789e5e485016e9eca595ef294da28c")]
    [TestCase("toy-25gaussians-teacher", 64, "f61599096e8859a8e8a814553edd3c4342019222a5fd4e0446a6cd77119b76b1")]
    [TestCase("toy-checkerboard-teacher", 64, "93b9f8179a2cf64850587f81c0e432baa6f7a5058405b6405ef790b9d85c3be3")]
    [TestCase("toy-swissroll-teacher", 64, "ecaa486eae8d3dfeefa4b83b31474c62facafaef7c5e0186d7356b6029fd0520")]
    [TestCase("toy-moons-teacher", 64, "dcb1845b01c34097bb25fad491936bd0b3e0c0b544afcc5c456e87f7920ef650")]
    [TestCase("toy-8gaussians-diff-instruct", 64, "ff7f195f3247c48f54020697f4d7d21da55aae25f08d73e14a9d53dd08bdae63")]
    [TestCase("toy-checkerboard-diff-instruct", 64, "3f2faf9d5a29a6f0962f2e365e5f1e38d5f7e7fa47c02a8211cc94e857d193b6")]
    [TestCase("toy-swissroll-diff-instruct", 64, "1e739fc2509289df2b16267b68cfe0b32a6a00bb150fe6ca94c0e378a13ffdbe")]
    [TestCase("fmnist-teacher-xs", 2, "3f06cec99a649de4405e364a85a608b1c7ab8a0d929f2f62c32d08b8cafba1ae")]
    [TestCase("fmnist-diff-instruct-xs", 8, "c293b503909a36fcda7745d03f836a302536f6d7ed54deba55f34a9d4f2449fe")]
    [TestCase("fmnist-boot-xs", 8, "2316c5790e8027bbb05b8b25f5b8e1040180db9418213937d3301ef658f862bb")]
    [TestCase("fmnist-pd-k8-xs", 4, "0deefb12ae36447ab29cc2d108fea3126ef80b7ff01afd1aa7ac2944518d36ea")]
    [TestCase("fmnist-pd-k4-xs", 4, "f3ef9419cb1e2497cfd12e6afc63e3a9c62f2391b06064bce24efcc96715f8b8")]
    [TestCase("fmnist-pd-k2-xs", 4, "6e31ee46b3ebf99123f1d69480d208dfbb5537c0f177fb672b60f3ad90b3c6fd")]
    [TestCase("fmnist-pd-k1-xs", 4, "45a0bb0835bf9cfe857afa3a58080cb740235730766fbffb7bf77f24b67e54b9")]
    [TestCase("fmnist-dmd2-k1-xs", 4, "7824a06f8c6d7923b9014e7cd81f0a5978da8efe567ccc50e3f7e4972d3c3303")]
    [TestCase("fmnist-dmd2-k4-xs", 4, "12203f272eb136b5624fc1e1124a8689d805444e865a0b0a319eb0316f4b83f7")]
    [TestCase("fmnist-pd-ddil-k4-xs", 4, "3c91d4cff6aec9082453f411f16f6f0e753148065a68e66cc1735487ef7ade80")]
    [TestCase("fmnist-dmd2-ddil-k4-xs", 4, "0b6ae1e8ce3edfd35fecd6eb2db30fb06b9820a46803d018690af00cf322890c")]
    [TestCase("fmnist-gan", 8, "a97118049cc1f3d1be4b1d7205ceca7341f44aa9ea9ed522e828e10f6ba0ba66")]
    [TestCase("fmnist-gan-di", 8, "5b11339e953c4634b6c03fc9740b31d3da8af664e3847ca60226187b338e30d9")]
    public void SamplesAsBeforeExport(string name, int n, string sha256)
    {
        using var model = PretrainedModel.Load(Path.Combine(RepoFiles.ModelsDir(), name + ".safetensors"));
        using var scope = Tensor.Scope();
        var hash = Hash(model.Sample(n, Seed).Samples);
        Assert.That(hash, Is.EqualTo(sha256), name);
    }

    [Test]
    public void TheClassifierGivesTheLogitsItGaveBeforeExport()
    {
        using var clf = Classifier.Load(Path.Combine(RepoFiles.ModelsDir(), "fmnist-classifier.safetensors"));
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var images = new Generator(Seed).Uniform([4, 32, 32, 1], low: -1f, high: 1f);
        var hash = Hash(clf.Forward(images));
        Assert.That(hash, Is.EqualTo("144a056b8f284fb376bc4aa1954d035542c7f1cc3d89dc853dd060ca5f5fd417"));
    }
}
