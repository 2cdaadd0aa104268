using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;

namespace DiffKernels.Tests.Diffusion.Data;

public class ImageSubsetTests
{
    [Test]
    public void SelectsAClassRangeThenTheFirstNInOrderKeepingLabelsAndClassCount()
    {
        var source = TinyModels.TinyImages(count: 24);
        var subset = ImageSubset.Select(source, (1, 2), 5);
        Assert.That(subset.Name, Is.EqualTo("tiny@classes=1-2,limit=5"));
        Assert.That(subset.NumClasses, Is.EqualTo(3));
        Assert.That(subset.Data.Labels.ToArray(), Is.EqualTo(new[] { 1, 2, 1, 2, 1 }));
        // Images 1, 2, 4, 5, 7 of the source (labels i mod 3).
        int[] from = [1, 2, 4, 5, 7];
        for (int k = 0; k < from.Length; k++) Assert.That(subset.Data.Image(k).ToArray(), Is.EqualTo(source.Data.Image(from[k]).ToArray()));
        Assert.That(ImageSubset.Select(source, "classes=1-2,limit=5").Data.Images.ToArray(), Is.EqualTo(subset.Data.Images.ToArray()), "the spec selects the same");
        Assert.That(ImageSubset.Select(source, null, 7).Data.Count, Is.EqualTo(7));
        Assert.That(ImageSubset.Select(source, (2, 2), null).Name, Is.EqualTo("tiny@classes=2"));
    }

    [Test]
    public void SplitsASpecOnlyWhereItEndsInASelection()
    {
        Assert.That(ImageSubset.TrySplit("fmnist@classes=5-9,limit=1000", out var source, out var selection), Is.True);
        Assert.That((source, selection), Is.EqualTo(("fmnist", "classes=5-9,limit=1000")));
        Assert.That(ImageSubset.TrySplit("folder:/data/a@b", out source, out _), Is.False);
        Assert.That(source, Is.EqualTo("folder:/data/a@b"));
        Assert.That(ImageSubset.Whole("fmnist@classes=0-4"), Is.EqualTo("fmnist"));
    }

    [Test]
    public void ASelectionThatLeavesNoImagesOrCannotApplyIsRefusedInOneLine()
    {
        var source = TinyModels.TinyImages();
        Assert.That(() => ImageSubset.Select(source, (5, 9), null), Throws.ArgumentException.With.Message.EqualTo("data 'tiny@classes=5-9': the selection leaves no images (tiny has classes 0-2)"));
        Assert.That(() => ImageSubset.Select(new ToyDataSource(GaussianMixtureToy.EightGaussians()), null, 10),
            Throws.ArgumentException.With.Message.Contains("only image data can be subset"));
        Assert.That(() => ImageSubset.ParseClasses("9-5", "--classes"), Throws.ArgumentException.With.Message.StartWith("--classes '9-5' is not a class range"));
        Assert.That(() => ImageSubset.Select(source, "classes=1-2,limit=0"), Throws.ArgumentException.With.Message.Contains("limit '0' is not a positive number"));
    }
}
