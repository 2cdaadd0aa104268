using DiffKernels.Backends;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Gpu;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// A captured region (GpuBackend.Capture) replays the kernels it queued with the arguments it queued them with: an EDM
/// trainer whose UNet step's forward and backward are captured once and replayed on new batches (`dk train --graph`)
/// trains bit for bit as the eager trainer, and what a replay cannot do (host transfers and waits, new driver memory)
/// is refused at capture, naming the call. On CUDA the same region becomes a driver graph; the emulator replays the
/// recorded list.
/// </summary>
public class GraphCaptureTests
{
    private const int Size = 8, Steps = 3;

    private static ImageDataSource TinyImages()
    {
        float[] images;
        using (Tensor.Scope()) images = F.Clamp(new Generator(5).Normal([8, Size, Size, 1], Device.Cpu, 0, 0.5f), -1, 1).ToArray();
        return new ImageDataSource(new ImageDataset(images, [0, 1, 2, 3, 4, 5, 6, 7], Size, Size, 1, 10), "tiny");
    }

    /// <summary>
    /// Three EDM training steps of a small class-conditional UNet (the UNet-XS blocks: convolutions, GroupNorm with
    /// FiLM, attention, time and label embeddings; one level at 8×8 so the emulator stays quick) with label dropout,
    /// clipping and the EMA, eagerly or with the step replayed from a graph captured at the second step.
    /// </summary>
    private static (double[] Losses, float[] Weights, float[] Ema, long[] Launches, long[] Waits, long Captured) Train(bool graph)
    {
        var gpu = Emulator.Backend;
        var net = new UNet(new UNetConfig(Size, 1, 16, [1], 1, [Size], NumClasses: 10), new Generator(7), gpu.Device);
        // The zero-initialised output layers would leave every gradient upstream of them zero.
        var gen = new Generator(11);
        using (Tensor.NoGrad())
            foreach (var p in net.Parameters()) F.AddInPlace(p, gen.Normal(p.Shape, gpu.Device, std: 0.05f));
        var options = new TrainerOptions { Steps = Steps, BatchSize = 2, Lr = 1e-3f, WarmupSteps = 1, LabelDropout = 0.5, GradClip = 1f, CheckpointEvery = 0, Seed = 2 };
        using var trainer = new EdmTrainer(net, TinyImages(), options) { CaptureGraph = graph };
        var losses = new List<double>();
        var launches = new List<long>();
        var waits = new List<long>();
        long l0 = gpu.KernelLaunches, w0 = gpu.HostWaits;
        trainer.Run(progress: p =>
        {
            losses.Add(p["loss"]);
            launches.Add(gpu.KernelLaunches - l0);
            waits.Add(gpu.HostWaits - w0);
            (l0, w0) = (gpu.KernelLaunches, gpu.HostWaits);
        });
        return (losses.ToArray(), net.Parameters().SelectMany(t => t.ToArray()).ToArray(),
            trainer.EmaWeights.Values.SelectMany(t => t.ToArray()).ToArray(), launches.ToArray(), waits.ToArray(), trainer.ReplayedLaunches);
    }

    [Test]
    public void ATrainerReplayingItsStepTrainsBitForBitAsTheEagerTrainer()
    {
        var eager = Train(graph: false);
        var replayed = Train(graph: true);
        TestContext.Out.WriteLine($"losses {string.Join(", ", eager.Losses)}; launches per step eager {string.Join(", ", eager.Launches)}, " +
            $"replayed {string.Join(", ", replayed.Launches)} ({replayed.Captured} in the graph); host waits eager {string.Join(", ", eager.Waits)}, replayed {string.Join(", ", replayed.Waits)}");
        Assert.That(eager.Losses.Distinct().Count(), Is.EqualTo(Steps), "every step saw a new batch");
        Assert.That(replayed.Losses, Is.EqualTo(eager.Losses));
        Assert.That(replayed.Weights, Is.EqualTo(eager.Weights), "the raw weights after the last step");
        Assert.That(replayed.Ema, Is.EqualTo(eager.Ema), "the EMA after the last step");
        Assert.That(replayed.Captured, Is.GreaterThan(100), "the forward and backward are in the graph");
        // A replayed step launches the input copies and the update; it waits once for the dropped labels and once for
        // the loss and gradient norm together (eagerly: labels, loss, then norm).
        Assert.That(replayed.Launches[^1], Is.LessThan(eager.Launches[^1] - replayed.Captured + 10));
        Assert.That(replayed.Waits[^1], Is.EqualTo(eager.Waits[^1] - 1));
    }

    [TestCase("Upload")]
    [TestCase("Download")]
    [TestCase("Synchronize")]
    public void AHostTransferOrWaitInsideARegionIsRefusedNamingTheCall(string call)
    {
        var gpu = Emulator.Backend;
        var b = gpu.Allocate(16);
        try
        {
            var host = new float[16];
            Action region = call switch
            {
                "Upload" => () => gpu.Upload(host, b, 0),
                "Download" => () => gpu.Download(b, 0, host),
                _ => gpu.Synchronize,
            };
            var e = Assert.Throws<InvalidOperationException>(() => gpu.Capture(() => { gpu.Fill(b, 0, 16, 1f); region(); }));
            Assert.That(e!.Message, Does.Contain($"{call} inside a captured region"));
            Assert.That(gpu.IsCapturing, Is.False, "a failed capture ends");
            gpu.Fill(b, 0, 16, 2f);
            gpu.Download(b, 0, host);
            Assert.That(host, Is.All.EqualTo(2f), "the backend works eagerly again, and the refused region's launch never ran");
        }
        finally
        {
            b.Release();
        }
    }

    [Test]
    public void TheRegionsBuffersStayWithTheGraphUntilItIsDisposed()
    {
        var gpu = Emulator.Backend;
        const int n = 3000;
        var result = gpu.Allocate(n);
        var host = new float[n];
        try
        {
            void Region()
            {
                // A temporary the region rents and releases: its replays write it again, so nobody else may rent it.
                var tmp = gpu.Allocate(n);
                gpu.Fill(tmp, 0, n, 3f);
                gpu.Unary(UnaryOp.MulScalar, tmp, result, n, 2f, 0f);
                tmp.Release();
            }
            Region();   // warms the pool with the temporary's size
            gpu.Fill(result, 0, n, 0f);
            long cached = gpu.Memory.CachedBytes;
            var graph = gpu.Capture(Region);
            Assert.That(graph.KernelLaunches, Is.EqualTo(2));
            gpu.Download(result, 0, host);
            Assert.That(host, Is.All.EqualTo(0f), "capturing runs nothing");
            Assert.That(gpu.Memory.CachedBytes, Is.EqualTo(cached - BufferPool.Bucket(n) * sizeof(float)), "the temporary is held, not free");
            var other = gpu.Allocate(n);
            gpu.Fill(other, 0, n, -1f);
            graph.Replay();
            gpu.Download(result, 0, host);
            Assert.That(host, Is.All.EqualTo(6f));
            gpu.Download(other, 0, host);
            Assert.That(host, Is.All.EqualTo(-1f), "a buffer rented after the capture is not the graph's temporary");
            other.Release();
            long beforeDispose = gpu.Memory.CachedBytes;
            graph.Dispose();
            Assert.That(gpu.Memory.CachedBytes, Is.EqualTo(beforeDispose + BufferPool.Bucket(n) * sizeof(float)), "disposing the graph frees its temporary");
            Assert.Throws<ObjectDisposedException>(graph.Replay);
        }
        finally
        {
            result.Release();
        }
    }

    [Test]
    public void ARegionThatNeedsNewMemoryIsRefusedUntilItHasRunOnce()
    {
        var gpu = Emulator.Backend;
        gpu.ReleaseCachedMemory();
        var e = Assert.Throws<InvalidOperationException>(() => gpu.Capture(() => gpu.Allocate(123_457).Release()));
        Assert.That(e!.Message, Does.Contain("run the region once before capturing it"));
        gpu.Allocate(123_457).Release();
        using var graph = gpu.Capture(() => gpu.Allocate(123_457).Release());
        Assert.That(graph.KernelLaunches, Is.EqualTo(0));
        Assert.That(graph.IsDriverGraph, Is.False, "the emulator replays a recorded list");
    }
}
