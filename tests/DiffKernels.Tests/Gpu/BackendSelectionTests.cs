using DiffKernels.Gpu;

namespace DiffKernels.Tests.Gpu;

public class BackendSelectionTests
{
    [Test]
    public void AutoPrefersCudaThenOpenClThenTheEmulator()
    {
        var gpus = GpuDevices.List();
        using var backend = GpuBackend.Create();
        var expected = gpus.Any(g => g.Kind == GpuKind.Cuda) ? GpuKind.Cuda
            : gpus.Any(g => g.Kind == GpuKind.OpenCL) ? GpuKind.OpenCL
            : GpuKind.CpuEmulator;
        Assert.That(backend.Kind, Is.EqualTo(expected));
        Assert.That(backend.Device.Backend, Is.SameAs(backend));
    }

    [Test]
    public void AMissingKindIsReportedByName()
    {
        Assume.That(GpuDevices.List().Any(g => g.Kind == GpuKind.OpenCL), Is.False, "an OpenCL GPU is present");
        Assert.That(() => GpuBackend.Create(GpuKind.OpenCL), Throws.TypeOf<GpuUnavailableException>().With.Message.Contains("OpenCL"));
    }

    [Test]
    public void TheEmulatorNamesItself()
    {
        var b = Emulator.Backend;
        Assert.That(b.Kind, Is.EqualTo(GpuKind.CpuEmulator));
        Assert.That(b.Name, Is.EqualTo("cpu-emulator"));
        Assert.That(b.Device.Name, Is.EqualTo("cpu-emulator"));
    }
}
