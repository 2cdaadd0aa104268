using DiffKernels.Cli.Commands;
using DiffKernels.Gpu;
using DiffKernels.Gpu.Checks;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Gpu;

public class CheckOpsCommandTests
{
    private static bool HasCuda => GpuDevices.List().Any(g => g.Kind == GpuKind.Cuda);

    [Test]
    public void EmulatorRunPrintsEachOpAndASummary()
    {
        var (code, stdout, stderr) = Dk("check-ops", "--backend", "cpu-emulator", "--filter", "pool");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("upsample2x").And.Contain("avgpool2x").And.Contain("pass"));
        Assert.That(stdout, Does.Contain("2 passed, 0 failed of 2 ops on cpu-emulator"));
    }

    [Test]
    public void MissingCudaIsAUserError()
    {
        Assume.That(HasCuda, Is.False, "a CUDA device is present");
        var (code, _, stderr) = Dk("check-ops", "--backend", "cuda");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("no CUDA device"));
    }

    [Test]
    public void UnknownBackendIsRejected()
    {
        var (code, _, _) = Dk("check-ops", "--backend", "tpu");
        Assert.That(code, Is.Not.EqualTo(0));
    }

    [Test]
    public void AnyFailingOpMakesTheExitCodeNonZero()
    {
        // A case that cannot meet its tolerance (a negative one) stands in for a broken kernel.
        var broken = new OpCase("always fails", "test", -1, c => [Tensor.Ones([3], c.Device)]);
        var ok = OpMatrix.Find("fill");
        using var o = new StringWriter();
        int code = CheckOpsCommand.Run(o, Emulator.Backend, [ok, broken]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(o.ToString(), Does.Contain("FAIL").And.Contain("1 passed, 1 failed of 2 ops"));
        code = CheckOpsCommand.Run(o, Emulator.Backend, [ok]);
        Assert.That(code, Is.EqualTo(0));
    }

    [Test]
    public void InfoListsGpusOrSaysThereIsNone()
    {
        var (code, stdout, stderr) = Dk("info");
        Assert.That(code, Is.EqualTo(0), stderr);
        if (HasCuda) Assert.That(stdout, Does.Contain("warp").And.Contain("shared memory per group"));
        else Assert.That(stdout, Does.Contain("no CUDA device"));
        Assert.That(stdout, Does.Contain("cpu-emulator"));
    }
}
