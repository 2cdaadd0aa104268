using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

public class InfoCommandTests
{
    [Test]
    public void ReportsCpuBackendFeatures()
    {
        var (code, stdout, stderr) = Dk("info");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("cpu").And.Contain($"{Environment.ProcessorCount} cores"));
        Assert.That(stdout, Does.Contain("AVX2").And.Contain("SGEMM micro-kernel"));
    }

    [Test]
    public void UnknownCommandFails()
    {
        var (code, _, _) = Dk("no-such-command");
        Assert.That(code, Is.Not.EqualTo(0));
    }
}
