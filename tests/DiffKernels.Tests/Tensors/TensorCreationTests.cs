using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Tensors;

public class TensorCreationTests
{
    [Test]
    public void ConstantFills()
    {
        using var _ = Tensor.Scope();
        var z = Tensor.Zeros([2, 3]);
        Assert.That(z.Shape, Is.EqualTo(new Shape(2, 3)));
        Assert.That(z.ToArray(), Is.EqualTo(new float[6]));
        Assert.That(Tensor.Ones([4]).ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f, 1f }));
        var f = Tensor.Full([1, 2, 1, 2, 1], -2.5f);
        Assert.That(f.Rank, Is.EqualTo(5));
        Assert.That(f.ToArray(), Is.EqualTo(new[] { -2.5f, -2.5f, -2.5f, -2.5f }));
        var like = Tensor.ZerosLike(f);
        Assert.That(like.Shape, Is.EqualTo(f.Shape));
        Assert.That(like.ToArray(), Is.All.EqualTo(0f));
        Assert.That(Tensor.Zeros([0, 3]).ToArray(), Is.Empty);
    }

    [Test]
    public void ScalarAndItem()
    {
        using var _ = Tensor.Scope();
        var s = Tensor.Scalar(3.25f);
        Assert.That(s.Rank, Is.EqualTo(0));
        Assert.That(s.Numel, Is.EqualTo(1));
        Assert.That(s.Item(), Is.EqualTo(3.25f));
        Assert.That(Tensor.FromArray([7f], 1, 1).Item(), Is.EqualTo(7f));
        var ex = Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2]).Item());
        Assert.That(ex!.Message, Does.Contain("Item").And.Contain("[2]"));
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([0]).Item());
    }

    [Test]
    public void FromArrayRoundTripsThroughToArray()
    {
        using var _ = Tensor.Scope();
        float[] v = [1.5f, -2f, 0f, 3f, 1e-8f, -7.25f];
        var t = Tensor.FromArray(v, 2, 3);
        Assert.That(t.Shape, Is.EqualTo(new Shape(2, 3)));
        Assert.That(t.ToArray(), Is.EqualTo(v));
        Assert.That(Tensor.FromArray(v).Shape, Is.EqualTo(new Shape(6)));
        var d = Tensor.FromArray([0.1, 2.0, -3.5], 3);
        Assert.That(d.ToArray(), Is.EqualTo(new[] { 0.1f, 2f, -3.5f }));
        // The tensor owns a copy: changing the source afterwards must not leak in.
        v[0] = 99f;
        Assert.That(t.ToArray()[0], Is.EqualTo(1.5f));
    }

    [Test]
    public void BadElementCountsAndShapesAreClearErrors()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f, 3f, 4f, 5f], 2, 3));
        Assert.That(ex!.Message, Does.Contain("5 values").And.Contain("[2, 3]").And.Contain("6 elements"));
        ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, -1]));
        Assert.That(ex!.Message, Does.Contain("negative").And.Contain("[2, -1]"));
        ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros([1, 1, 1, 1, 1, 1]));
        Assert.That(ex!.Message, Does.Contain("rank 6").And.Contain("maximum 5"));
    }

    [Test]
    public void Arange()
    {
        using var _ = Tensor.Scope();
        Assert.That(Tensor.Arange(5).ToArray(), Is.EqualTo(new[] { 0f, 1f, 2f, 3f, 4f }));
        Assert.That(Tensor.Arange(0.5f, 2f, 0.5f).ToArray(), Is.EqualTo(new[] { 0.5f, 1f, 1.5f }));
        Assert.That(Tensor.Arange(5f, 0f, -2f).ToArray(), Is.EqualTo(new[] { 5f, 3f, 1f }));
        Assert.That(Tensor.Arange(1f, 2.05f, 0.5f).ToArray(), Is.EqualTo(new[] { 1f, 1.5f, 2f }));
        Assert.That(Tensor.Arange(3f, 3f).Shape, Is.EqualTo(new Shape(0)));
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Arange(0f, 5f, 0f));
        Assert.That(ex!.Message, Does.Contain("Arange").And.Contain("step=0"));
        ex = Assert.Throws<ArgumentException>(() => Tensor.Arange(0f, 5f, -1f));
        Assert.That(ex!.Message, Does.Contain("Arange").And.Contain("end=5"));
    }

    [Test]
    public void ReshapeInfersMinusOneAndSharesValues()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Arange(24);
        var y = x.Reshape(2, -1, 4);
        Assert.That(y.Shape, Is.EqualTo(new Shape(2, 3, 4)));
        Assert.That(y.ToArray(), Is.EqualTo(x.ToArray()));
        Assert.That(x.Reshape(-1).Shape, Is.EqualTo(new Shape(24)));
        Assert.That(Tensor.Scalar(1f).Reshape(1, -1).Shape, Is.EqualTo(new Shape(1, 1)));
        Assert.That(Tensor.FromArray([4f], 1, 1, 1).Reshape().Shape, Is.EqualTo(new Shape()));
    }

    [Test]
    public void ReshapeRejectsBadCounts()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Zeros([2, 3, 4]);
        var ex = Assert.Throws<ArgumentException>(() => x.Reshape(5, 5));
        Assert.That(ex!.Message, Does.Contain("Reshape").And.Contain("[5, 5]").And.Contain("25").And.Contain("[2, 3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => x.Reshape(5, -1));
        Assert.That(ex!.Message, Does.Contain("Reshape").And.Contain("-1").And.Contain("[2, 3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => x.Reshape(0, -1));
        Assert.That(ex!.Message, Does.Contain("Reshape").And.Contain("-1"));
        Assert.Throws<ArgumentException>(() => x.Reshape(-1, -1));
    }

    [Test]
    public void ReshapePassesGradients()
    {
        OpCheck.Run("reshape -1", [new Shape(2, 6)], x => F.Mul(x[0].Reshape(3, -1), x[0].Reshape(-1, 4)),
            x => x[0].Select(v => v * v).ToArray(), new OpCheckOptions { OutputShape = new Shape(3, 4) });
    }
}
