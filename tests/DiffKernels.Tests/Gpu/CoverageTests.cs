using DiffKernels.Backends;
using DiffKernels.Gpu.Checks;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>The op matrix reaches every member of the backend contract, so no GPU kernel goes unchecked.</summary>
public class CoverageTests
{
    [Test]
    public void EveryBackendMemberIsExercised()
    {
        var recorder = new RecordingBackend(Emulator.Backend);
        var device = new Device("recording", recorder);
        foreach (var c in OpMatrix.All)
        {
            var r = OpMatrixRunner.Run(c, device);
            Assert.That(r.Passed, Is.True, r.ToString());
        }
        var members = typeof(IBackend).GetMethods().Where(m => !m.IsSpecialName).Select(m => m.Name).ToHashSet();
        members.ExceptWith(recorder.Called);
        Assert.That(members, Is.Empty, "backend members no op case reaches");
    }
}
