using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Nn;

/// <summary>
/// The layer counterpart of <see cref="OpCheck"/>: a module's forward against a double reference
/// written over its named parameter values, and the gradient of every parameter and of the input
/// (VJP with a random dy) against central finite differences of that reference.
/// </summary>
public static class ModuleCheck
{
    /// <summary>Reference: named parameter values and input values → output values.</summary>
    public delegate double[] Reference(IReadOnlyDictionary<string, double[]> p, double[] x);

    /// <summary>Randomises the module's parameters (so unit scales and zero shifts hide nothing), then checks it.</summary>
    public static void Run(string name, Module module, Func<Tensor, Tensor> forward, Shape xShape, Reference reference,
        double forwardTol = 1e-5, double gradTol = 2e-3, int seed = 7)
    {
        var gen = new Generator((ulong)seed);
        foreach (var p in module.Parameters()) Init.Uniform(p, -1f, 1f, gen);
        var rng = new System.Random(seed);
        var xd = Enumerable.Range(0, (int)xShape.Numel).Select(_ => (double)(float)(rng.NextDouble() * 2 - 1)).ToArray();
        var pd = module.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray().Select(v => (double)v).ToArray());

        using var scope = Tensor.Scope();
        module.ZeroGrad();
        var x = Tensor.FromSpan(xd.Select(v => (float)v).ToArray(), xShape).RequireGrad();
        var y = forward(x);
        var yRef = reference(pd, xd);
        var yOurs = y.ToArray().Select(v => (double)v).ToArray();
        Assert.That(yOurs, Has.Length.EqualTo(yRef.Length), $"{name}: output element count");
        double fwd = OpCheck.NormalisedError(yOurs, yRef);
        Assert.That(fwd, Is.LessThanOrEqualTo(forwardTol), $"{name}: forward error {fwd:E2}");

        var dy = yRef.Select(_ => (double)(float)(rng.NextDouble() * 2 - 1)).ToArray();
        y.Backward(Tensor.FromSpan(dy.Select(v => (float)v).ToArray(), y.Shape));
        Check(name, "input", x.Grad, xd, v => reference(pd, v), dy, gradTol);
        foreach (var (pname, p) in module.NamedParameters())
        {
            var values = pd[pname];
            Check(name, pname, p.Grad, values, v =>
            {
                var copy = new Dictionary<string, double[]>(pd) { [pname] = v };
                return reference(copy, xd);
            }, dy, gradTol);
        }
        module.ZeroGrad();
    }

    private static void Check(string name, string what, Tensor? grad, double[] at, Func<double[], double[]> f, double[] dy, double tol)
    {
        Assert.That(grad, Is.Not.Null, $"{name}: {what} received no gradient");
        var analytic = grad!.ToArray().Select(v => (double)v).ToArray();
        var v = (double[])at.Clone();
        var numeric = new double[v.Length];
        for (int j = 0; j < v.Length; j++)
        {
            double keep = v[j], h = 1e-5 * Math.Max(1, Math.Abs(keep));
            v[j] = keep + h;
            double plus = Dot(dy, f(v));
            v[j] = keep - h;
            double minus = Dot(dy, f(v));
            v[j] = keep;
            numeric[j] = (plus - minus) / (2 * h);
        }
        double err = OpCheck.NormalisedError(analytic, numeric);
        Assert.That(err, Is.LessThanOrEqualTo(tol), $"{name}: gradient of {what} error {err:E2}");
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
