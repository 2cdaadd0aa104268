using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

/// <summary>GroupNorm fused with a per-(sample, channel) FiLM and SiLU: exactness against the unfused ops, and gradients.</summary>
public class GroupNormFilmTests
{
    /// <summary>act((GroupNorm(x)·(1 + scale[n, c]) + shift[n, c])) in double.</summary>
    private static double[] FilmRef(double[] x, Shape shape, int groups, double[] gamma, double[] beta, double[] scale, double[] shift, bool silu)
    {
        var z = NormTests.GroupNormRef(x, shape, groups, gamma, beta, silu: false);
        int n = shape[0], c = shape[-1];
        long perSample = shape.Numel / n;
        for (long i = 0; i < z.Length; i++)
        {
            long k = i / perSample * c + i % c;
            double u = z[i] * (1 + scale[k]) + shift[k];
            z[i] = silu ? u / (1 + Math.Exp(-u)) : u;
        }
        return z;
    }

    private static IEnumerable<TestCaseData> ExactCases()
    {
        // Channels a multiple of the vector width and not (tails inside and at the end of each block), 1 to 8 groups.
        foreach (var (dims, groups) in new[] { (new[] { 3, 5, 7, 16 }, 1), (new[] { 2, 6, 6, 24 }, 8), (new[] { 2, 9, 5, 12 }, 2), (new[] { 4, 17, 20 }, 2), (new[] { 2, 3, 3, 40 }, 8) })
            foreach (bool silu in new[] { false, true })
                yield return new TestCaseData(dims, groups, silu).SetName($"[{string.Join(",", dims)}] G={groups} silu={silu}");
    }

    [TestCaseSource(nameof(ExactCases))]
    public void ForwardEqualsTheUnfusedOpsBitForBit(int[] dims, int groups, bool silu)
    {
        int n = dims[0], c = dims[^1];
        var rng = new System.Random(dims.Sum() * 31 + groups);
        Tensor Rand(float lo, float hi, params int[] s)
        {
            var v = new float[new Shape(s).Numel];
            for (int i = 0; i < v.Length; i++) v[i] = lo + (hi - lo) * (float)rng.NextDouble();
            return Tensor.FromArray(v, s);
        }
        var x = Rand(-3, 2, dims);
        var gamma = Rand(0.5f, 1.5f, c);
        var beta = Rand(-0.5f, 0.5f, c);
        int[] filmShape = [n, .. Enumerable.Repeat(1, dims.Length - 2), c];
        var scale = Rand(-0.9f, 0.9f, filmShape);
        var shift = Rand(-1, 1, filmShape);

        var fused = F.GroupNorm(x, groups, gamma, beta, silu: silu, scale: scale, shift: shift).ToArray();
        var unfused = F.GroupNorm(x, groups, gamma, beta) * (scale + 1f) + shift;
        if (silu) unfused = F.Silu(unfused);
        Assert.That(fused, Is.EqualTo(unfused.ToArray()));
    }

    private static IEnumerable<TestCaseData> GradientCases()
    {
        foreach (var (dims, groups) in new[] { (new[] { 2, 3, 4, 6 }, 3), (new[] { 3, 5, 9 }, 1), (new[] { 2, 2, 3, 16 }, 8) })
            foreach (bool silu in new[] { false, true })
                yield return new TestCaseData(dims, groups, silu).SetName($"[{string.Join(",", dims)}] G={groups} silu={silu}");
    }

    [TestCaseSource(nameof(GradientCases))]
    public void MatchesReferenceWithGradients(int[] dims, int groups, bool silu)
    {
        var s = new Shape(dims);
        int n = dims[0], c = dims[^1];
        var film = new Shape([n, .. Enumerable.Repeat(1, dims.Length - 2), c]);
        OpCheck.Run("group_norm_film", [s, new Shape(c), new Shape(c), film, film],
            x => F.GroupNorm(x[0], groups, x[1], x[2], silu: silu, scale: x[3], shift: x[4]),
            x => FilmRef(x[0], s, groups, x[1], x[2], x[3], x[4], silu),
            new OpCheckOptions { OutputShape = s });
    }

    [Test]
    public void FlatFilmShapeAndParameterGradientsOnly()
    {
        var s = new Shape(3, 4, 8);
        OpCheck.Run("group_norm_film [N, C]", [s, new Shape(8), new Shape(8), new Shape(3, 8), new Shape(3, 8)],
            x => F.GroupNorm(x[0], 4, x[1], x[2], silu: true, scale: x[3], shift: x[4]),
            x => FilmRef(x[0], s, 4, x[1], x[2], x[3], x[4], silu: true),
            new OpCheckOptions { Differentiable = [false, true, true, true, true] });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void OneFilmTensorEqualsItsTwoHalvesBitForBit(bool silu)
    {
        // [N, 1, 1, 2C]: the shape the UNet's FiLM projection has; 12 channels in 2 groups and 8 in 4 (two kernel paths).
        foreach (var (dims, groups) in new[] { (new[] { 2, 3, 4, 8 }, 4), (new[] { 3, 5, 2, 12 }, 2) })
        {
            int n = dims[0], c = dims[^1];
            var rng = new System.Random(c);
            Tensor Rand(float lo, float hi, params int[] sh) =>
                Tensor.FromArray(Enumerable.Range(0, (int)new Shape(sh).Numel).Select(_ => lo + (hi - lo) * (float)rng.NextDouble()).ToArray(), sh).RequireGrad();
            var (x, gamma, beta, film) = (Rand(-3, 2, dims), Rand(0.5f, 1.5f, c), Rand(-0.5f, 0.5f, c), Rand(-0.9f, 0.9f, n, 1, 1, 2 * c));
            var w = Rand(-1, 1, dims);

            var one = F.GroupNorm(x, groups, gamma, beta, film, silu: silu);
            F.Sum(F.Mul(one, w)).Backward();
            var oneGrads = new[] { x, gamma, beta, film }.Select(t => t.Grad!.ToArray()).ToArray();
            foreach (var t in new[] { x, gamma, beta, film }) t.ZeroGrad();

            var halves = F.Chunk(film, 2, axis: 3);
            var two = F.GroupNorm(x, groups, gamma, beta, silu: silu, scale: halves[0], shift: halves[1]);
            F.Sum(F.Mul(two, w)).Backward();
            Assert.That(one.ToArray(), Is.EqualTo(two.ToArray()), $"forward, C = {c}");
            var names = new[] { "dx", "dγ", "dβ", "dfilm" };
            var inputs = new[] { x, gamma, beta, film };
            for (int i = 0; i < 4; i++) Assert.That(oneGrads[i], Is.EqualTo(inputs[i].Grad!.ToArray()), $"{names[i]}, C = {c}");
        }
    }

    [Test]
    public void OneFilmTensorGradientsMatchFiniteDifferences()
    {
        var s = new Shape(2, 3, 2, 6);
        OpCheck.Run("group_norm_film one tensor", [s, new Shape(6), new Shape(6), new Shape(2, 1, 1, 12)],
            x => F.GroupNorm(x[0], 3, x[1], x[2], x[3], silu: true),
            x => FilmRef(x[0], s, 3, x[1], x[2], Half(x[3], 0), Half(x[3], 6), silu: true),
            new OpCheckOptions { OutputShape = s });

        static double[] Half(double[] film, int from) =>
            Enumerable.Range(0, film.Length / 2).Select(i => film[i / 6 * 12 + from + i % 6]).ToArray();
    }

    [Test]
    public void BadFilmArgumentsAreOneLineErrors()
    {
        var x = Tensor.Zeros([2, 3, 3, 4]);
        var ok = Tensor.Zeros([2, 1, 1, 4]);
        var ex = Assert.Throws<ArgumentException>(() => F.GroupNorm(x, 2, null, null, scale: ok));
        Assert.That(ex!.Message, Does.Contain("given together"));
        ex = Assert.Throws<ArgumentException>(() => F.GroupNorm(x, 2, null, null, scale: Tensor.Zeros([1, 4]), shift: Tensor.Zeros([1, 4])));
        Assert.That(ex!.Message, Does.Contain("scale [1, 4] must be [N, C]"));
        ex = Assert.Throws<ArgumentException>(() => F.GroupNorm(x, 2, null, null, Tensor.Zeros([2, 1, 1, 4])));
        Assert.That(ex!.Message, Does.Contain("film [2, 1, 1, 4] must be [N, 2C] or [N, 1, …, 1, 2C]"));
    }
}
