using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Tensors;

public class ScopeTests
{
    [Test]
    public void TensorsAreReleasedAtScopeEndUnlessKept()
    {
        Tensor a, kept;
        using (Tensor.Scope())
        {
            a = Tensor.Ones([4]);
            kept = F.MulScalar(a, 2f).Keep();
        }
        Assert.That(a.IsDisposed, Is.True);
        Assert.That(kept.IsDisposed, Is.False);
        Assert.That(kept.ToArray(), Is.EqualTo(new[] { 2f, 2f, 2f, 2f }));
        Assert.Throws<ObjectDisposedException>(() => a.ToArray());
        kept.Dispose();
    }

    [Test]
    public void KeepMovesToTheEnclosingScope()
    {
        Tensor inner;
        using (Tensor.Scope())
        {
            using (Tensor.Scope()) inner = Tensor.Ones([2]).Keep();
            Assert.That(inner.IsDisposed, Is.False);
        }
        Assert.That(inner.IsDisposed, Is.True);
    }

    [Test]
    public void ParameterGradientsOutliveTheStepScope()
    {
        var w = Tensor.FromArray([1f, 2f]).RequireGrad();
        using (Tensor.Scope())
        {
            F.Mul(w, w).Sum().Backward();
        }
        Assert.That(w.Grad, Is.Not.Null);
        Assert.That(w.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 4f }));
        w.Dispose();
        Assert.That(w.Grad, Is.Null, "a tensor's gradient goes with it");
    }

    [Test]
    public void ReshapeSharesMemoryAndSurvivesItsSource()
    {
        Tensor r;
        using (Tensor.Scope())
        {
            var x = Tensor.Arange(6);
            r = x.Reshape(2, -1).Keep();
        }
        Assert.That(r.Shape, Is.EqualTo(new Shape(2, 3)));
        Assert.That(r.ToArray(), Is.EqualTo(new[] { 0f, 1f, 2f, 3f, 4f, 5f }));
        r.Dispose();
    }

    [Test]
    public void ScopesMustNest()
    {
        var outer = Tensor.Scope();
        var inner = Tensor.Scope();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
    }

    [Test]
    public void ManyStepsInScopesReuseMemory()
    {
        var w = Tensor.Ones([256]).RequireGrad();
        for (int step = 0; step < 50; step++)
        {
            using var _ = Tensor.Scope();
            F.Mul(F.Exp(w), w).Sum().Backward();
        }
        Assert.That(w.Grad!.ToArray()[0], Is.EqualTo(50 * 2 * MathF.E).Within(1e-3));
        w.Dispose();
    }
}
