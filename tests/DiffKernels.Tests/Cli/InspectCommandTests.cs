using DiffKernels.IO;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

public class InspectCommandTests
{
    [Test]
    public void ListsTensorsMetadataAndTotals()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        string path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["unet.conv_in.weight"] = Tensor.Zeros([8, 3, 3, 4]),
            ["unet.conv_in.bias"] = Tensor.Zeros([8]),
            ["sigma"] = Tensor.Scalar(1f),
        }, new Dictionary<string, string> { ["config"] = "{\"steps\":4}", ["note"] = "plain text" }, DType.BF16);

        var (code, stdout, stderr) = Dk("inspect", path);

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Is.Empty);
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.That(lines, Has.Some.Match(@"^unet\.conv_in\.weight\s+BF16\s+\[8, 3, 3, 4\]\s+288$"));
        Assert.That(lines, Has.Some.Match(@"^unet\.conv_in\.bias\s+BF16\s+\[8\]\s+8$"));
        Assert.That(lines, Has.Some.Match(@"^sigma\s+BF16\s+\[\]\s+1$"));
        Assert.That(stdout, Does.Contain("\"steps\": 4"), "JSON metadata is pretty-printed");
        Assert.That(lines, Has.Some.EqualTo("  note: plain text"));
        Assert.That(stdout, Does.Contain("3 tensors, 297 elements, 594 B of data"));
    }

    [Test]
    public void MalformedFileGivesOneLineAndExitCode2()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(5UL), .. "{\"a\":"u8.ToArray()]);

        var (code, stdout, stderr) = Dk("inspect", path);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        Assert.That(stderr, Does.StartWith($"dk inspect: {path}: header is not valid JSON"));
    }

    [Test]
    public void MissingFileGivesOneLineAndExitCode2()
    {
        using var dir = new TempDir();
        string path = dir.File("missing.safetensors");

        var (code, _, stderr) = Dk("inspect", path);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stderr, Does.StartWith("dk inspect: ").And.Contain(path));
    }
}
