using DiffKernels.Nn;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Nn;

public class LayerTests
{
    [TestCase(true)]
    [TestCase(false)]
    public void LinearMatchesReference(bool bias)
    {
        using var m = new Linear(5, 3, bias);
        Assert.That(m.Weight.Shape, Is.EqualTo(new Shape(3, 5)));
        ModuleCheck.Run("linear", m, m.Forward, [2, 4, 5],
            (p, x) => LayerRef.Linear(x, p["weight"], bias ? p["bias"] : null, 5, 3));
    }

    [TestCase(3, 1, 1, true)]
    [TestCase(3, 2, 0, false)]
    [TestCase(1, 1, 0, true)]
    [TestCase(2, 2, 1, true)]
    public void Conv2dMatchesReference(int k, int stride, int pad, bool bias)
    {
        const int n = 2, h = 5, w = 4, cin = 3, cout = 2;
        using var m = new Conv2d(cin, cout, k, stride, pad, bias);
        Assert.That(m.Weight.Shape, Is.EqualTo(new Shape(cout, k, k, cin)));
        ModuleCheck.Run($"conv2d k{k} s{stride} p{pad}", m, m.Forward, [n, h, w, cin],
            (p, x) => LayerRef.Conv2d(x, p["weight"], bias ? p["bias"] : null, n, h, w, cin, cout, k, stride, pad));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void GroupNormMatchesReference(bool affine)
    {
        using var m = new GroupNorm(3, 6, eps: 1e-3f, affine: affine);
        ModuleCheck.Run("group_norm", m, m.Forward, [2, 3, 2, 6],
            (p, x) => LayerRef.GroupNorm(x, 2, 6, 3, 1e-3, affine ? p["weight"] : null, affine ? p["bias"] : null));
    }

    [Test]
    public void GroupNormFusedSiluMatchesReference()
    {
        using var m = new GroupNorm(2, 4);
        ModuleCheck.Run("group_norm_silu", m, x => m.Forward(x, silu: true), [2, 5, 4],
            (p, x) => LayerRef.GroupNorm(x, 2, 4, 2, 1e-5, p["weight"], p["bias"]).Select(v => v / (1 + Math.Exp(-v))).ToArray());
    }

    [TestCase(true)]
    [TestCase(false)]
    public void LayerNormMatchesReference(bool affine)
    {
        using var m = new LayerNorm(7, affine: affine);
        Assert.That(m.Parameters().Count(), Is.EqualTo(affine ? 2 : 0));
        ModuleCheck.Run("layer_norm", m, m.Forward, [3, 2, 7],
            (p, x) => LayerRef.LayerNorm(x, 7, 1e-5, affine ? p["weight"] : null, affine ? p["bias"] : null));
    }

    [TestCase(1, 4, 3)]
    [TestCase(2, 2, 3)]
    public void AttentionBlockMatchesReference(int heads, int groups, int height)
    {
        const int c = 8, b = 2, w = 2;
        int n = height * w;
        using var m = new AttentionBlock(c, heads, groups);
        Assert.That(m.NamedParameters().Select(p => p.Name), Is.EqualTo(new[]
        {
            "norm.weight", "norm.bias", "q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "proj.weight", "proj.bias",
        }));
        ModuleCheck.Run($"attention_block h={heads}", m, m.Forward, [b, height, w, c], (p, x) =>
        {
            var hN = LayerRef.GroupNorm(x, b, c, groups, 1e-5, p["norm.weight"], p["norm.bias"]);
            var q = LayerRef.Linear(hN, p["q.weight"], p["q.bias"], c, c);
            var k = LayerRef.Linear(hN, p["k.weight"], p["k.bias"], c, c);
            var v = LayerRef.Linear(hN, p["v.weight"], p["v.bias"], c, c);
            var a = LayerRef.Attention(q, k, v, b, n, n, heads, c);
            var o = LayerRef.Linear(a, p["proj.weight"], p["proj.bias"], c, c);
            return x.Select((xi, i) => xi + o[i]).ToArray();
        }, gradTol: 3e-3);
    }

    [Test]
    public void AttentionBlockAcceptsTokensAndRejectsWrongChannels()
    {
        using var scope = Tensor.Scope();
        using var m = new AttentionBlock(4, heads: 2, groups: 2);
        Assert.That(m.Forward(Tensor.Zeros([1, 3, 4])).Shape, Is.EqualTo(new Shape(1, 3, 4)));
        Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros([1, 2, 2, 5])));
        Assert.Throws<ArgumentException>(() => new AttentionBlock(6, heads: 4, groups: 2));
    }

    [Test]
    public void DropoutFollowsTrainingMode()
    {
        using var scope = Tensor.Scope();
        using var d = new Dropout(0.5f, new DiffKernels.Random.Generator(1));
        var x = Tensor.Ones([1000]);
        var y = d.Forward(x).ToArray();
        Assert.That(y.All(v => v == 0f || v == 2f));
        int kept = y.Count(v => v == 2f);
        Assert.That(kept, Is.InRange(400, 600));
        d.Eval();
        Assert.That(d.Forward(x), Is.SameAs(x));
        Assert.Throws<ArgumentException>(() => new Dropout(1f));
    }

    [Test]
    public void NormLayersRejectMismatchedInput()
    {
        using var scope = Tensor.Scope();
        using var g = new GroupNorm(2, 4);
        using var l = new LayerNorm(4);
        Assert.Throws<ArgumentException>(() => g.Forward(Tensor.Zeros([2, 3, 6])));
        Assert.Throws<ArgumentException>(() => l.Forward(Tensor.Zeros([2, 3])));
        Assert.Throws<ArgumentException>(() => new GroupNorm(3, 4));
    }
}
