using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Optim;

public class GradClipTests
{
    private static Tensor WithGrad(float[] grad, params int[] shape)
    {
        var p = Tensor.Zeros(shape).RequireGrad();
        p.Grad = Tensor.FromArray(grad, shape);
        return p;
    }

    [Test]
    public void NormSpansAllParametersAndSkipsThoseWithoutGradient()
    {
        var a = WithGrad([3f, 0f, -4f], 3);
        var b = WithGrad([1f, 2f, 2f, 4f], 2, 2);
        var none = Tensor.Zeros([5]).RequireGrad();
        Assert.That(GradClip.GlobalNorm([a, b, none]), Is.EqualTo(Math.Sqrt(25 + 25)).Within(1e-5));
        Assert.That(GradClip.GlobalNorm([none]), Is.EqualTo(0f));
    }

    [Test]
    public void ClipScalesToMaxNormAndReturnsPreClipNorm()
    {
        var a = WithGrad([3f, 0f, -4f], 3);
        var b = WithGrad([1f, 2f, 2f, 4f], 2, 2);
        float norm = GradClip.ClipGlobalNorm([a, b], 1f);
        Assert.That(norm, Is.EqualTo(Math.Sqrt(50)).Within(1e-5));
        double s = 1 / Math.Sqrt(50);
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 3 * s, 0, -4 * s }).Within(1e-6));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { s, 2 * s, 2 * s, 4 * s }).Within(1e-6));
        Assert.That(GradClip.GlobalNorm([a, b]), Is.EqualTo(1f).Within(1e-6));
    }

    [Test]
    public void UnderTheMaximumNothingChanges()
    {
        var a = WithGrad([0.3f, -0.4f], 2);
        Assert.That(GradClip.ClipGlobalNorm([a], 0.5f), Is.EqualTo(0.5f).Within(1e-6));
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 0.3f, -0.4f }));
        Assert.That(GradClip.ClipGlobalNorm([a], 10f), Is.EqualTo(0.5f).Within(1e-6));
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 0.3f, -0.4f }));
    }

    [Test]
    public void NonFiniteNormIsReportedAndNotApplied()
    {
        var a = WithGrad([1f, float.NaN], 2);
        var b = WithGrad([5f], 1);
        Assert.That(float.IsNaN(GradClip.ClipGlobalNorm([a, b], 1f)));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 5f }));
        var c = WithGrad([float.PositiveInfinity], 1);
        Assert.That(float.IsPositiveInfinity(GradClip.ClipGlobalNorm([b, c], 1f)));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 5f }));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradClip.ClipGlobalNorm([b], 0f));
    }

    [Test]
    public void LeavesNoTensorsInTheCallersScope()
    {
        var a = WithGrad([3f, 4f], 2);
        using var scope = Tensor.Scope();
        GradClip.ClipGlobalNorm([a], 1f);
        Assert.That(scope.Count, Is.EqualTo(0));
    }
}
