using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

public class TransferTests
{
    [Test]
    public void TransfersSurviveACompactingGarbageCollector()
    {
        // Host spans reach ILGPU as raw addresses; unless pinned, a collection that moves the array in
        // the middle of a copy leaves the copy in the old place (zeros in the result).
        var dev = Emulator.Backend.Device;
        using var stop = new CancellationTokenSource();
        var churn = Task.Run(() =>
        {
            var keep = new List<byte[]>();
            while (!stop.IsCancellationRequested)
            {
                keep.Add(new byte[2048]);
                if (keep.Count > 2000) keep.RemoveRange(0, 1000);
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
        });
        try
        {
            var values = Enumerable.Range(1, 2000).Select(j => (float)j).ToArray();
            using var u = Tensor.FromSpan(values, new Shape(2000), dev);
            int bad = 0;
            for (int i = 0; i < 2000; i++)
                if (!u.ToArray().AsSpan().SequenceEqual(values)) bad++;
            Assert.That(bad, Is.Zero, "downloads that lost their data");
        }
        finally
        {
            stop.Cancel();
            churn.Wait();
        }
    }
}
