using DiffKernels.Backends;
using DiffKernels.Gpu;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// The backend queues its work on a stream of its own, and uploads go through the page-locked staging ring
/// without waiting for the device: right values whether the ring wraps or not, waits only when it is full.
/// </summary>
public class StreamTests
{
    [Test]
    public void TheBackendsStreamIsNotTheAcceleratorsDefaultStream()
    {
        var stream = Emulator.Backend.Stream;
        Assert.That(stream, Is.Not.SameAs(stream.Accelerator.DefaultStream));
    }

    [Test]
    public void UploadsThatFitTheRingDoNotWait()
    {
        var gpu = Emulator.Backend;
        var buffers = Enumerable.Range(0, 8).Select(_ => gpu.Allocate(1000)).ToArray();
        try
        {
            gpu.Synchronize();
            long waits = gpu.HostWaits;
            var src = new float[1000];
            for (int i = 0; i < buffers.Length; i++)
            {
                Array.Fill(src, i + 0.5f);
                gpu.Upload(src, buffers[i], 0);
            }
            Assert.That(gpu.HostWaits, Is.EqualTo(waits), "staged uploads queue their copies and return");
            var host = new float[1000];
            for (int i = 0; i < buffers.Length; i++)
            {
                gpu.Download(buffers[i], 0, host);
                Assert.That(host, Is.All.EqualTo(i + 0.5f), $"upload {i}: the source array was overwritten after the call, not the staged copy");
            }
        }
        finally
        {
            foreach (var b in buffers) b.Release();
        }
    }

    [Test]
    public void ManyUploadsWrappingTheRingThenKernelsThatReadThemGiveTheRightValues()
    {
        var gpu = Emulator.Backend;
        const int chunk = GpuBackend.UploadRingFloats / 3 - 17;   // three fit, with a gap at the end the fourth does not fit
        const int count = 10;                                     // more than three rings' worth without a read in between
        var inputs = Enumerable.Range(0, count).Select(_ => gpu.Allocate(chunk)).ToArray();
        var outputs = Enumerable.Range(0, count).Select(_ => gpu.Allocate(chunk)).ToArray();
        try
        {
            gpu.Synchronize();
            long waits = gpu.HostWaits;
            var src = new float[chunk];
            for (int i = 0; i < count; i++)
            {
                for (int j = 0; j < chunk; j++) src[j] = i * 1000 + j % 997;
                gpu.Upload(src, inputs[i], 0);
                gpu.Unary(UnaryOp.MulScalar, inputs[i], outputs[i], chunk, 2f, 0f);
            }
            // Three chunks fit a ring; each further third chunk finds it full: waits before uploads 3, 6 and 9.
            Assert.That(gpu.HostWaits - waits, Is.EqualTo(3), "the ring waited only when full");
            var host = new float[chunk];
            for (int i = 0; i < count; i++)
            {
                gpu.Download(outputs[i], 0, host);
                int bad = 0;
                for (int j = 0; j < chunk; j++)
                    if (host[j] != 2f * (i * 1000 + j % 997)) bad++;
                Assert.That(bad, Is.Zero, $"wrong values read back from upload {i}");
            }
        }
        finally
        {
            foreach (var b in inputs.Concat(outputs)) b.Release();
        }
    }

    [Test]
    public void AnUploadLargerThanTheRingTakesTheWaitingPathWithTheSameResult()
    {
        var gpu = Emulator.Backend;
        int n = GpuBackend.UploadRingFloats + 5;
        var b = gpu.Allocate(n);
        try
        {
            var src = Enumerable.Range(0, n).Select(j => (float)(j % 4099)).ToArray();
            long waits = gpu.HostWaits;
            gpu.Upload(src, b, 0);
            Assert.That(gpu.HostWaits - waits, Is.EqualTo(1), "one waiting copy from pageable memory");
            var host = new float[n];
            gpu.Download(b, 0, host);
            Assert.That(host, Is.EqualTo(src));
        }
        finally
        {
            b.Release();
        }
    }
}
