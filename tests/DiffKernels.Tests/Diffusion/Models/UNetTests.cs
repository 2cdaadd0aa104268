using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

/// <summary>The reference U-Nets: exact size, naming, wiring of skips and conditioning, and that they learn.</summary>
public class UNetTests
{
    [Test]
    public void UNetSHasTheReferenceParameterCount()
    {
        using var net = new UNet(UNetConfig.S(), new Generator(0));
        Assert.That(net.ParameterCount, Is.EqualTo(1_742_881));
        // Conditioning adds only the bias-free 10 → 128 label projection.
        using var cond = new UNet(UNetConfig.S(numClasses: 10), new Generator(0));
        Assert.That(cond.ParameterCount, Is.EqualTo(1_742_881 + 10 * 128));
    }

    [Test]
    public void UNetXSIsTheSameDesignAtBase16WithOneBlockPerLevel()
    {
        using var net = new UNet(UNetConfig.XS(), new Generator(0));
        Assert.That(net.ParameterCount, Is.EqualTo(354_337));
        // conv_in, 3 res + 2 downsamples on the way down: 6 skips; up: 2 res per level + 2 upsamples.
        Assert.That(net.Down.Count, Is.EqualTo(5));
        Assert.That(net.Up.Count, Is.EqualTo(8));
    }

    [Test]
    public void ParametersHavePyTorchStyleNamesAndNhwcConvShapes()
    {
        using var net = new UNet(UNetConfig.S(numClasses: 10), new Generator(0));
        var sd = net.StateDict();
        var expected = new Dictionary<string, int[]>
        {
            ["time_embed.0.weight"] = [128, 32],
            ["time_embed.2.weight"] = [128, 128],
            ["label_embed.weight"] = [128, 10],
            ["conv_in.weight"] = [32, 3, 3, 1],
            ["down.0.conv1.weight"] = [32, 3, 3, 32],
            ["down.0.emb.weight"] = [64, 128],
            ["down.2.conv.weight"] = [32, 3, 3, 32],           // first downsample
            ["down.3.skip.weight"] = [64, 1, 1, 32],           // 32 → 64 channels
            ["down.6.attn.q.weight"] = [64, 64],               // first block at 8×8
            ["mid.1.norm.weight"] = [64],
            ["up.0.conv1.weight"] = [64, 3, 3, 128],           // 64 + skip 64
            ["up.3.conv.weight"] = [64, 3, 3, 64],             // upsample 8 → 16
            ["up.10.conv1.weight"] = [32, 3, 3, 64],           // last block: 32 + conv_in's 32
            ["norm_out.weight"] = [32],
            ["conv_out.weight"] = [1, 3, 3, 32],
        };
        foreach (var (name, shape) in expected)
        {
            Assert.That(sd.ContainsKey(name), $"missing '{name}'");
            Assert.That(sd[name].Shape.ToArray(), Is.EqualTo(shape), name);
        }
        Assert.That(sd.Keys.Any(k => k.StartsWith("down.0.attn", StringComparison.Ordinal)), Is.False, "no attention at 32×32");
        Assert.That(sd.ContainsKey("label_embed.bias"), Is.False);
        Assert.That(sd.Keys.Count(k => k.EndsWith(".attn.q.weight", StringComparison.Ordinal)), Is.EqualTo(2 + 3), "2 down + 3 up blocks at 8×8");
    }

    /// <summary>Replaces the zero-initialised layers too, so every path contributes to the output.</summary>
    private static void Randomise(Module net, ulong seed)
    {
        var gen = new Generator(seed);
        foreach (var (name, p) in net.NamedParameters())
            if (name.EndsWith("weight", StringComparison.Ordinal) && p.Rank > 1)
                Init.Normal(p, 0f, 1f / MathF.Sqrt(p.Numel / p.Shape[0]), gen);
            else
                Init.Uniform(p, -0.1f, 0.1f, gen);
    }

    [Test]
    public void ForwardAtBatchTwoMapsImagesToImagesAndHonoursLabels()
    {
        using var net = new UNet(UNetConfig.S(numClasses: 10), new Generator(1));
        Randomise(net, 2);
        using var scope = Tensor.Scope();
        using var _ = Tensor.NoGrad();
        var x = new Generator(3).Normal([2, 32, 32, 1]);
        var c = Tensor.FromArray(new[] { -1.0f, 0.5f }, 2);
        var y3 = net.Forward(x, c, Tensor.FromArray(new[] { 3f, 3f }, 2));
        Assert.That(y3.Shape.ToArray(), Is.EqualTo(new[] { 2, 32, 32, 1 }));
        var a3 = y3.ToArray();
        Assert.That(a3.All(float.IsFinite));
        Assert.That(a3.Select(v => (double)v * v).Average(), Is.GreaterThan(1e-4), "randomised weights give a non-trivial output");

        var y5 = net.Forward(x, c, Tensor.FromArray(new[] { 3f, 5f }, 2)).ToArray();
        Assert.That(y5.AsSpan(0, 1024).ToArray(), Is.EqualTo(a3.AsSpan(0, 1024).ToArray()), "samples are independent");
        Assert.That(y5.AsSpan(1024).ToArray(), Is.Not.EqualTo(a3.AsSpan(1024).ToArray()), "the label changes the output");

        // "No class" (−1) is exactly the unconditional branch.
        var none = net.Forward(x, c, Tensor.FromArray(new[] { -1f, -1f }, 2)).ToArray();
        Assert.That(net.Forward(x, c, null).ToArray(), Is.EqualTo(none));
        Assert.That(none, Is.Not.EqualTo(a3));

        var other = net.Forward(x, Tensor.FromArray(new[] { -1.0f, 0.25f }, 2), null).ToArray();
        Assert.That(other.AsSpan(1024).ToArray(), Is.Not.EqualTo(none.AsSpan(1024).ToArray()), "the noise level changes the output");
    }

    [Test]
    public void AtInitialisationTheOutputIsZero()
    {
        using var net = new UNet(UNetConfig.XS(), new Generator(4));
        using var scope = Tensor.Scope();
        var y = net.Forward(new Generator(5).Normal([1, 32, 32, 1]), Tensor.FromArray(new[] { 0.3f }, 1), null);
        Assert.That(y.ToArray(), Is.All.EqualTo(0f));
    }

    [Test]
    public void ShortTrainingOnATinyBatchReducesTheLoss()
    {
        // Fixed noisy inputs and targets: a denoising regression the network must fit.
        using var net = new UNet(UNetConfig.XS(numClasses: 2), new Generator(6));
        using var opt = new Adam(net.Parameters(), lr: 2e-3f);
        using var data = Tensor.Scope();
        var gen = new Generator(7);
        var clean = F.Tanh(gen.Normal([4, 32, 32, 1]) * 2f);
        var noisy = clean + gen.Normal([4, 32, 32, 1]) * 0.5f;
        var cNoise = Tensor.FromArray(new[] { -0.2f, -0.2f, -0.2f, -0.2f }, 4);
        var labels = Tensor.FromArray(new[] { 0f, 1f, -1f, 0f }, 4);
        var losses = new List<float>();
        for (int step = 0; step < 12; step++)
        {
            using var s = Tensor.Scope();
            opt.ZeroGrad();
            var loss = F.MseLoss(net.Forward(noisy, cNoise, labels), clean);
            loss.Backward();
            opt.Step();
            losses.Add(loss.Item());
        }
        Assert.That(losses.All(float.IsFinite));
        // From 0.64 the loss reaches about 0.2 in 12 steps (0.064 in 25); an unwired gradient leaves it flat.
        Assert.That(losses[^1], Is.LessThan(0.6f * losses[0]), string.Join(", ", losses));
    }

    [Test]
    public void ConfigRoundTripsThroughJson()
    {
        var c = UNetConfig.S(numClasses: 10);
        var json = c.ToJson();
        Assert.That(json, Does.Contain("\"base_channels\":32"));
        Assert.That(UNetConfig.FromJson(json), Is.EqualTo(c));
        Assert.That(UNetConfig.FromJson(json), Is.Not.EqualTo(UNetConfig.XS(numClasses: 10)));
        Assert.That(UNetConfig.Preset("XS"), Is.EqualTo(UNetConfig.XS()));
        Assert.Throws<ArgumentException>(() => UNetConfig.FromJson("{not json"));
        var bad = Assert.Throws<ArgumentException>(() => UNetConfig.FromJson((c with { Groups = 7 }).ToJson()));
        Assert.That(bad!.Message, Does.Contain("groups"));
    }

    [Test]
    public void CheckpointsRebuildTheNetworkFromTheFileAlone()
    {
        using var dir = new TempDir();
        using var net = new UNet(UNetConfig.XS(numClasses: 3), new Generator(8));
        Randomise(net, 9);
        ModelFactory.Save(dir.File("u.safetensors"), net);
        using var loaded = ModelFactory.Load(dir.File("u.safetensors"));
        Assert.That(loaded.Kind, Is.EqualTo("unet"));
        var back = (UNet)loaded.Model;
        Assert.That(back.Config, Is.EqualTo(net.Config));
        using var scope = Tensor.Scope();
        var x = new Generator(10).Normal([2, 32, 32, 1]);
        var c = Tensor.FromArray(new[] { 0.1f, -0.4f }, 2);
        var y = Tensor.FromArray(new[] { 2f, -1f }, 2);
        Assert.That(loaded.Net.Forward(x, c, y).ToArray(), Is.EqualTo(net.Forward(x, c, y).ToArray()));
    }

    [Test]
    public void BadInputsAreRejectedWithTheirShapes()
    {
        using var net = new UNet(UNetConfig.XS(), new Generator(0));
        using var scope = Tensor.Scope();
        var c = Tensor.Zeros([2]);
        var e1 = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros([2, 28, 28, 1]), c, null));
        Assert.That(e1!.Message, Does.Contain("[2, 28, 28, 1]"));
        var e2 = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros([2, 32, 32, 1]), Tensor.Zeros([3]), null));
        Assert.That(e2!.Message, Does.Contain("cNoise"));
        var e3 = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros([2, 32, 32, 1]), c, Tensor.Zeros([2])));
        Assert.That(e3!.Message, Does.Contain("unconditional"));
    }
}
