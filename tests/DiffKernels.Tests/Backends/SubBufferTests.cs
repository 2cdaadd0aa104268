using DiffKernels.Backends;
using DiffKernels.Gpu;
using DiffKernels.Gpu.Checks;
using DiffKernels.Tensors;
using DiffKernels.Tests.Gpu;

namespace DiffKernels.Tests.Backends;

/// <summary>
/// Sub-buffers: a slice shares its parent's memory and keeps it alive, and every kernel reads a slice exactly as
/// it reads a buffer of its own (the op matrix run with each input inside a guarded larger buffer): bit for bit on
/// the CPU, within each case's tolerance on the GPU backend (CPU emulator), neither writing outside the slices.
/// </summary>
public class SubBufferTests
{
    private static IEnumerable<TestCaseData> Devices()
    {
        yield return new TestCaseData("cpu").SetName("cpu");
        yield return new TestCaseData("cpu-emulator").SetName("cpu-emulator");
    }

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : Emulator.Backend.Device;

    [TestCaseSource(nameof(Devices))]
    public void ASliceSharesItsParentsMemoryAndKeepsItAlive(string deviceName)
    {
        var be = DeviceNamed(deviceName).Backend;
        var parent = be.Allocate(16);
        be.Fill(parent, 0, 16, 0f);
        var slice = parent.Slice(8, 4);
        Assert.That((slice.Parent, slice.Offset, slice.Length), Is.EqualTo((parent, 8L, 4L)));
        be.Upload([1f, 2f, 3f, 4f], slice, 0);
        be.Fill(slice, 3, 1, 9f);
        var whole = new float[16];
        be.Download(parent, 0, whole);
        Assert.That(whole[6..14], Is.EqualTo(new[] { 0f, 0f, 1f, 2f, 3f, 9f, 0f, 0f }));

        parent.Release();
        Assert.That(parent.IsReleased, Is.False, "the slice holds its parent");
        var back = new float[2];
        be.Download(slice, 1, back);
        Assert.That(back, Is.EqualTo(new[] { 2f, 3f }));
        slice.Release();
        Assert.That(parent.IsReleased, Is.True, "the last slice let its parent go");
        Assert.Throws<ObjectDisposedException>(() => parent.Slice(0, 1));
    }

    [TestCaseSource(nameof(Devices))]
    public void SlicesOutsideTheBufferAreRefused(string deviceName)
    {
        var be = DeviceNamed(deviceName).Backend;
        var parent = be.Allocate(8);
        try
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => parent.Slice(5, 4));
            Assert.Throws<ArgumentOutOfRangeException>(() => parent.Slice(-4, 4));
            var nested = parent.Slice(4, 4);
            var inner = nested.Slice(0, 4);
            be.Upload([7f, 8f, 9f, 10f], inner, 0);
            var got = new float[4];
            be.Download(parent, 4, got);
            Assert.That(got, Is.EqualTo(new[] { 7f, 8f, 9f, 10f }), "a slice of a slice addresses the root from both offsets");
            inner.Release();
            nested.Release();
        }
        finally
        {
            parent.Release();
        }
    }

    [Test]
    public void GpuSlicesStartAtMultiplesOfFourElements()
    {
        var parent = Emulator.Backend.Allocate(16);
        try
        {
            var ex = Assert.Throws<ArgumentException>(() => parent.Slice(2, 4))!;
            Assert.That(ex.Message, Does.Contain($"multiple of {GpuBuffer.SliceAlignment}"));
            parent.Slice(4, 4).Release();
        }
        finally
        {
            parent.Release();
        }
    }

    private static IEnumerable<TestCaseData> AllCases() =>
        OpMatrix.All.Select(c => new TestCaseData(c.Name).SetName($"CpuSliced({c.Family}: {c.Name})"));

    // The families whose kernels take parameters and gradients (what the parameter arena slices) and the plain memory ops.
    private static readonly string[] EmulatorFamilies = ["memory", "elementwise", "gemm", "conv", "norm", "optim"];

    private static IEnumerable<TestCaseData> EmulatorCases() =>
        OpMatrix.All.Where(c => EmulatorFamilies.Contains(c.Family)).Select(c => new TestCaseData(c.Name).SetName($"EmulatorSliced({c.Family}: {c.Name})"));

    [TestCaseSource(nameof(AllCases))]
    public void CpuKernelsReadSlicesBitForBit(string name)
    {
        var c = OpMatrix.Find(name);
        var whole = Evaluate(c, Device.Cpu, pad: 0);
        var sliced = Evaluate(c, Device.Cpu, pad: 37);
        Assert.That(sliced, Has.Length.EqualTo(whole.Length));
        for (int i = 0; i < whole.Length; i++)
            Assert.That(sliced[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(whole[i].Select(BitConverter.SingleToInt32Bits)), $"output {i}");
    }

    [TestCaseSource(nameof(EmulatorCases))]
    public void EmulatorKernelsReadSlicesAsTheCpuReadsBuffers(string name)
    {
        var c = OpMatrix.Find(name);
        var expected = Evaluate(c, Device.Cpu, pad: 0);
        var actual = Evaluate(c, Emulator.Backend.Device, pad: 4 * GpuBuffer.SliceAlignment);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = OpMatrixRunner.NormalisedError(actual[i], expected[i]);
            Assert.That(e, Is.LessThanOrEqualTo(c.Tolerance), $"output {i}: normalised error {e:E2}");
        }
    }

    /// <summary>The case's outputs on <paramref name="device"/>, its inputs in guarded slices when <paramref name="pad"/> &gt; 0.</summary>
    private static float[][] Evaluate(OpCase c, Device device, int pad)
    {
        using var slices = new GuardedSlices(device, pad);
        float[][] outputs;
        using (Tensor.Scope())
            outputs = c.Run(new OpInputs(device, c.Name, pad > 0 ? slices.Place : null)).Select(t => t.ToArray()).ToArray();
        if (pad > 0) slices.AssertGuardsIntact();
        return outputs;
    }
}
