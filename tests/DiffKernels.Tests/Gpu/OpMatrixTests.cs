using DiffKernels.Gpu.Checks;

namespace DiffKernels.Tests.Gpu;

/// <summary>Every op of the matrix on the GPU backend (CPU emulator) against the CPU backend.</summary>
public class OpMatrixTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        OpMatrix.All.Select(c => new TestCaseData(c.Name).SetName($"GpuOp({c.Family}: {c.Name})"));

    [TestCaseSource(nameof(Cases))]
    public void MatchesCpu(string name)
    {
        var result = OpMatrixRunner.Run(OpMatrix.Find(name), Emulator.Backend.Device);
        TestContext.Out.WriteLine(result);
        Assert.That(result.Passed, Is.True, result.ToString());
    }
}
