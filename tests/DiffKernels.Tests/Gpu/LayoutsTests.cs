using DiffKernels.Gpu;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>Which binary-op layouts merge to one dimension, and so take the flat kernel without div/rem.</summary>
public class LayoutsTests
{
    [Test]
    public void SameShapedContiguousOperandsAreFlatWithUnitStrides()
    {
        var l = Layouts.Of(new Shape(7, 13), [13, 1], [13, 1]);
        Assert.That(Layouts.IsFlat(l), Is.True);
        Assert.That((l.D4, l.A4, l.B4), Is.EqualTo((91, 1, 1)));
    }

    [Test]
    public void ABroadcastScalarIsFlatWithStrideZero()
    {
        var l = Layouts.Of(new Shape(2, 3, 4), [0, 0, 0], [12, 4, 1]);
        Assert.That(Layouts.IsFlat(l), Is.True);
        Assert.That((l.D4, l.A4, l.B4), Is.EqualTo((24, 0, 1)));
    }

    [Test]
    public void RowBroadcastsAndTransposesKeepTheStridedPath()
    {
        Assert.That(Layouts.IsFlat(Layouts.Of(new Shape(4, 3, 5), [5, 0, 1], [0, 5, 1])), Is.False, "[4,1,5] against [3,5]");
        Assert.That(Layouts.IsFlat(Layouts.Of(new Shape(7, 13), [1, 7], [13, 1])), Is.False, "a transposed operand");
    }
}
