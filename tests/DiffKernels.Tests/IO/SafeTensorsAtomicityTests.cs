using DiffKernels.IO;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.IO;

public class SafeTensorsAtomicityTests
{
    [Test]
    public void FailureWhileWritingKeepsTheOldFileAndLeavesNoTemporary()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        string path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["old"] = Tensor.Ones([3]) });
        var before = File.ReadAllBytes(path);

        // "a" is written to the temporary file before the disposed "b" fails the save.
        var gone = Tensor.Ones([4]);
        gone.Dispose();
        var tensors = new Dictionary<string, Tensor> { ["a"] = Tensor.Ones([100_000]), ["b"] = gone };
        Assert.That(() => SafeTensors.Save(path, tensors), Throws.InstanceOf<ObjectDisposedException>());

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(dir.Entries(), Is.EqualTo(new[] { "model.safetensors" }));
    }

    [Test]
    public void TargetThatIsADirectoryFailsWithoutLitter()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        string target = dir.File("model.safetensors");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "x");

        Assert.That(() => SafeTensors.Save(target, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([8]) }),
            Throws.InstanceOf<IOException>().Or.InstanceOf<UnauthorizedAccessException>());

        Assert.That(Directory.Exists(target));
        Assert.That(File.ReadAllText(Path.Combine(target, "keep.txt")), Is.EqualTo("x"));
        Assert.That(dir.Entries(), Is.EqualTo(new[] { "model.safetensors" }));
    }

    [Test]
    public void MissingDirectoryFailsWithoutCreatingIt()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        string path = Path.Combine(dir.Path, "sub", "m.safetensors");
        Assert.That(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([1]) }), Throws.InstanceOf<DirectoryNotFoundException>());
        Assert.That(dir.Entries(), Is.Empty);
    }
}
