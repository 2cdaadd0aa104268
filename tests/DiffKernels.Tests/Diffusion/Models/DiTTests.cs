using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

/// <summary>DiT-S/4: size, patch layout, adaLN-Zero identity at initialisation, conditioning, and that it learns.</summary>
public class DiTTests
{
    private static readonly DiTConfig Tiny = new(32, 1, 4, Width: 32, Depth: 2, Heads: 2, TimeFeatures: 32, NumClasses: 2);

    [Test]
    public void DiTS4HasTheExpectedSize()
    {
        const int w = 192, blocks = 6;
        long block = (w * 3L * w + 3 * w) + (w * w + w) + (w * 4L * w + 4 * w) + (4L * w * w + w) + (w * 6L * w + 6 * w);
        long expected = (16 * w + w) + (256 * w + w) + (w * w + w) + blocks * block + (w * 2L * w + 2 * w) + (w * 16 + 16);
        using var net = new DiT(DiTConfig.S4(), new Generator(0));
        Assert.That(net.ParameterCount, Is.EqualTo(expected));
        Assert.That(expected, Is.EqualTo(4_165_456));
        Assert.That(DiTConfig.S4().Tokens, Is.EqualTo(64));
        var sd = net.StateDict();
        Assert.That(sd["x_embed.weight"].Shape.ToArray(), Is.EqualTo(new[] { 192, 4, 4, 1 }));
        Assert.That(sd["blocks.5.ada.weight"].Shape.ToArray(), Is.EqualTo(new[] { 6 * 192, 192 }));
        Assert.That(sd["final.weight"].Shape.ToArray(), Is.EqualTo(new[] { 16, 192 }));
    }

    [Test]
    public void UnpatchifyPutsEveryTokenBackOnItsPatch()
    {
        // Tokens built on the host from a known image must reassemble into that image.
        const int n = 2, size = 8, p = 2, ch = 3, g = size / p;
        var img = Enumerable.Range(0, n * size * size * ch).Select(i => (float)i).ToArray();
        var tokens = new float[img.Length];
        int k = 0;
        for (int b = 0; b < n; b++)
            for (int gr = 0; gr < g; gr++)
                for (int gc = 0; gc < g; gc++)
                    for (int pr = 0; pr < p; pr++)
                        for (int pc = 0; pc < p; pc++)
                            for (int c = 0; c < ch; c++)
                                tokens[k++] = img[((b * size + gr * p + pr) * size + gc * p + pc) * ch + c];
        using var scope = Tensor.Scope();
        var y = DiT.Unpatchify(Tensor.FromArray(tokens, n, g * g, p * p * ch), size, p, ch);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { n, size, size, ch }));
        Assert.That(y.ToArray(), Is.EqualTo(img));
    }

    [Test]
    public void AdaLnZeroBlocksStartAsTheIdentity()
    {
        using var block = new DiTBlock(48, 3, 4, new Generator(1));
        using var scope = Tensor.Scope();
        var gen = new Generator(2);
        var x = gen.Normal([2, 5, 48]);
        var c = gen.Normal([2, 48]);
        Assert.That(block.Forward(x, c).ToArray(), Is.EqualTo(x.ToArray()));

        // Once the modulation is non-zero the block does something.
        Init.Normal(block.Ada.Weight, 0f, 0.1f, gen);
        Assert.That(block.Forward(x, c).ToArray(), Is.Not.EqualTo(x.ToArray()));
    }

    [Test]
    public void ForwardMapsImagesToImagesStartsAtZeroAndHonoursLabels()
    {
        using var net = new DiT(DiTConfig.S4(numClasses: 10), new Generator(3));
        using var scope = Tensor.Scope();
        using var _ = Tensor.NoGrad();
        var x = new Generator(4).Normal([2, 32, 32, 1]);
        var c = Tensor.FromArray(new[] { -1f, 0.5f }, 2);
        var labels = Tensor.FromArray(new[] { 3f, -1f }, 2);
        var y0 = net.Forward(x, c, labels);
        Assert.That(y0.Shape.ToArray(), Is.EqualTo(new[] { 2, 32, 32, 1 }));
        Assert.That(y0.ToArray(), Is.All.EqualTo(0f), "zero final layer at initialisation");

        var gen = new Generator(5);
        foreach (var (name, p) in net.NamedParameters())
            if (name.StartsWith("final", StringComparison.Ordinal) || name.Contains(".ada."))
                Init.Normal(p, 0f, 0.05f, gen);
        var a = net.Forward(x, c, labels).ToArray();
        Assert.That(a.All(float.IsFinite));
        Assert.That(a.Select(v => (double)v * v).Average(), Is.GreaterThan(1e-4));
        var b = net.Forward(x, c, Tensor.FromArray(new[] { 4f, -1f }, 2)).ToArray();
        Assert.That(b.AsSpan(0, 1024).ToArray(), Is.Not.EqualTo(a.AsSpan(0, 1024).ToArray()), "the label changes the output");
        Assert.That(b.AsSpan(1024).ToArray(), Is.EqualTo(a.AsSpan(1024).ToArray()), "samples are independent");
        Assert.That(net.Forward(x, c, Tensor.FromArray(new[] { -1f, -1f }, 2)).ToArray(), Is.EqualTo(net.Forward(x, c, null).ToArray()),
            "−1 is the unconditional branch");
    }

    [Test]
    public void ShortTrainingOnATinyBatchReducesTheLoss()
    {
        using var net = new DiT(Tiny, new Generator(6));
        using var opt = new Adam(net.Parameters(), lr: 3e-3f);
        using var data = Tensor.Scope();
        var gen = new Generator(7);
        var clean = F.Tanh(gen.Normal([4, 32, 32, 1]) * 2f);
        var noisy = clean + gen.Normal([4, 32, 32, 1]) * 0.5f;
        var cNoise = Tensor.FromArray(new[] { -0.2f, -0.2f, -0.2f, -0.2f }, 4);
        var labels = Tensor.FromArray(new[] { 0f, 1f, -1f, 0f }, 4);
        var losses = new List<float>();
        for (int step = 0; step < 20; step++)
        {
            using var s = Tensor.Scope();
            opt.ZeroGrad();
            var loss = F.MseLoss(net.Forward(noisy, cNoise, labels), clean);
            loss.Backward();
            opt.Step();
            losses.Add(loss.Item());
        }
        Assert.That(losses.All(float.IsFinite));
        // From 0.64 the loss reaches about 0.21 in 20 steps; an unwired gradient leaves it flat.
        Assert.That(losses[^1], Is.LessThan(0.6f * losses[0]), string.Join(", ", losses));
    }

    [Test]
    public void CheckpointsRebuildTheNetworkFromTheFileAlone()
    {
        using var dir = new TempDir();
        using var net = new DiT(Tiny, new Generator(8));
        var gen = new Generator(9);
        foreach (var p in net.Parameters()) Init.Normal(p, 0f, 0.1f, gen);
        ModelFactory.Save(dir.File("d.safetensors"), net);
        using var loaded = ModelFactory.Load(dir.File("d.safetensors"));
        Assert.That(loaded.Kind, Is.EqualTo("dit"));
        Assert.That(((DiT)loaded.Model).Config, Is.EqualTo(Tiny));
        using var scope = Tensor.Scope();
        var x = gen.Normal([2, 32, 32, 1]);
        var c = Tensor.FromArray(new[] { 0.1f, -0.4f }, 2);
        var y = Tensor.FromArray(new[] { 1f, -1f }, 2);
        Assert.That(loaded.Net.Forward(x, c, y).ToArray(), Is.EqualTo(net.Forward(x, c, y).ToArray()));
    }

    [Test]
    public void ConfigRoundTripsThroughJsonAndIsValidated()
    {
        var c = DiTConfig.S4(numClasses: 10);
        Assert.That(DiTConfig.FromJson(c.ToJson()), Is.EqualTo(c));
        var e = Assert.Throws<ArgumentException>(() => DiTConfig.FromJson((c with { Heads = 5 }).ToJson()));
        Assert.That(e!.Message, Does.Contain("heads"));
        Assert.Throws<ArgumentException>(() => new DiT(c with { Patch = 5 }));
    }
}
