using DiffKernels.Tensors;

namespace DiffKernels.Tests.Tensors;

public class ShapeTests
{
    [Test]
    public void BroadcastFollowsNumPyRules()
    {
        Assert.That(Shape.Broadcast([2, 1, 4], [3, 1], "t"), Is.EqualTo(new Shape(2, 3, 4)));
        Assert.That(Shape.Broadcast([], [5], "t"), Is.EqualTo(new Shape(5)));
        Assert.That(Assert.Throws<ArgumentException>(() => Shape.Broadcast([2, 3], [4, 3], "op"))!.Message,
            Does.Contain("op").And.Contain("[2, 3]").And.Contain("[4, 3]"));
    }

    [Test]
    public void RankAboveFiveAndNegativeDimsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => _ = new Shape(1, 1, 1, 1, 1, 1));
        Assert.Throws<ArgumentException>(() => _ = new Shape(2, -1));
    }

    [Test]
    public void StridesAndNumel()
    {
        Shape s = [2, 3, 4];
        Assert.That(s.Strides(), Is.EqualTo(new long[] { 12, 4, 1 }));
        Assert.That(s.Numel, Is.EqualTo(24));
        Assert.That(new Shape().Numel, Is.EqualTo(1));
        Assert.That(new Shape(3, 1).BroadcastStrides([2, 3, 5]), Is.EqualTo(new long[] { 0, 1, 0 }));
    }
}
