using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Autograd;

public class AutogradTests
{
    [Test]
    public void TensorUsedSeveralTimesGetsSummedGradient()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f, -2f, 3f]).RequireGrad();
        // y = x·x + x·3 + x  →  dy/dx = 2x + 4
        var y = F.Add(F.Add(F.Mul(x, x), F.MulScalar(x, 3f)), x);
        y.Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 6f, 0f, 10f }));
    }

    [Test]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([2f, 5f]).RequireGrad();
        F.Mul(x, x).Sum().Backward();
        F.MulScalar(x, 10f).Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 14f, 20f }));
        x.ZeroGrad();
        Assert.That(x.Grad, Is.Null);
        F.MulScalar(x, 1f).Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1f, 1f }));
    }

    [Test]
    public void VectorJacobianProductWithGivenOutputGradient()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2).RequireGrad();
        var y = F.Exp(x);
        var dy = Tensor.FromArray([1f, 0f, -1f, 0.5f], 2, 2);
        y.Backward(dy);
        var g = x.Grad!.ToArray();
        float[] want = [MathF.Exp(1), 0, -MathF.Exp(3), 0.5f * MathF.Exp(4)];
        for (int i = 0; i < 4; i++) Assert.That(g[i], Is.EqualTo(want[i]).Within(1e-5f * MathF.Abs(want[i]) + 1e-7f));
    }

    [Test]
    public void GradientsFlowToInputsNotOnlyParameters()
    {
        using var _ = Tensor.Scope();
        var w = Tensor.FromArray([2f]).RequireGrad();
        var input = Tensor.FromArray([3f, 4f]).RequireGrad();
        var frozen = Tensor.FromArray([1f, 1f]);
        F.Mul(F.Mul(input, w), frozen).Sum().Backward();
        Assert.That(input.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 2f }));
        Assert.That(w.Grad!.ToArray(), Is.EqualTo(new[] { 7f }));
        Assert.That(frozen.Grad, Is.Null);
    }

    [Test]
    public void NoGradRecordsNothing()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f]).RequireGrad();
        Tensor y;
        using (Tensor.NoGrad()) y = F.Mul(x, x);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.GradFn, Is.Null);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(F.Mul(x, x).RequiresGrad, Is.True, "recording resumes after the scope");
    }

    [Test]
    public void DetachCutsTheGraphButSharesValues()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([3f]).RequireGrad();
        var d = F.Mul(x, x).Detach();
        Assert.That(d.RequiresGrad, Is.False);
        F.Add(F.Mul(d, x), x).Sum().Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo(10f), "d is a constant 9: d(9x + x)/dx = 10");
    }

    [Test]
    public void BackwardErrorsAreClear()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var y = F.Mul(x, x);
        Assert.That(Assert.Throws<InvalidOperationException>(() => y.Backward())!.Message, Does.Contain("not a scalar"));
        Assert.That(Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones([3])))!.Message, Does.Contain("dy shape"));
    }

    [Test]
    public void DeepChainsDoNotOverflowTheStack()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f]).RequireGrad();
        var y = x;
        for (int i = 0; i < 20_000; i++) y = F.AddScalar(y, 0.001f);
        y.Sum().Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo(1f));
    }

    [Test]
    public void BroadcastGradientsReduceToInputShapes()
    {
        using var _ = Tensor.Scope();
        var a = Tensor.Ones([2, 3]).RequireGrad();
        var b = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        F.Mul(a, b).Sum().Backward();
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 1f, 2f, 3f }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 2f, 2f }));
    }
}
