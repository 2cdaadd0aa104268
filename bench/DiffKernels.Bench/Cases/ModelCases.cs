using DiffKernels.Backends;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// Whole-model cases at batch 64 on 32×32×1 inputs: UNet-S forward, and one EDM training step
/// (σ and noise drawn, preconditioned loss, backward, Adam) of UNet-S and DiT-S/4, as the trainer runs it;
/// and the UNet-XS step at batch 32, the shape of the Fashion-MNIST distillation runs.
/// </summary>
internal static class ModelCases
{
    public const int Batch = 64;

    /// <summary>Every training step's target against PyTorch on the 2-core machine: 1.6× (the first round's was 1.25× for UNet-S).</summary>
    public const double TrainTarget = 1.6;

    public static IEnumerable<BenchCase> All()
    {
        yield return new("unet-s-fwd", "unet-s", $"UNet-S forward, batch {Batch}, no gradients", BenchUnit.MsPerStep, 0,
            be => new Run(be, d => new UNet(UNetConfig.S(), new Generator(0), d), train: false));
        yield return new("unet-s-train", "unet-s", $"UNet-S EDM training step (loss, backward, Adam), batch {Batch}", BenchUnit.MsPerStep, 0,
            be => new Run(be, d => new UNet(UNetConfig.S(), new Generator(0), d), train: true), TorchTarget: TrainTarget);
        yield return new("dit-s-train", "dit-s", $"DiT-S/4 EDM training step (loss, backward, Adam), batch {Batch}", BenchUnit.MsPerStep, 0,
            be => new Run(be, d => new DiT(DiTConfig.S4(), new Generator(0), d), train: true), TorchTarget: TrainTarget);
        yield return UNetTrain("unet-xs-train", "unet-xs", UNetConfig.XS(), "UNet-XS", XsBatch, UNetTrain("unet-xs-train", "unet-xs", UNetConfig.XS() with { ImageSize = 16 }, "UNet-XS", 1));
    }

    /// <summary>Batch of the UNet-XS case.</summary>
    public const int XsBatch = 32;

    /// <summary>One EDM training step of the UNet <paramref name="config"/> (called <paramref name="model"/>) at <paramref name="batch"/>.</summary>
    public static BenchCase UNetTrain(string name, string group, UNetConfig config, string model, int batch, BenchCase? tiny = null) =>
        new(name, group, $"{model} EDM training step (loss, backward, Adam), batch {batch}{(config.ImageSize != 32 ? $", {config.ImageSize}×{config.ImageSize} images" : "")}",
            BenchUnit.MsPerStep, 0, be => new Run(be, d => new UNet(config, new Generator(0), d), train: true, batch, config.ImageSize), TrainTarget, tiny);

    private sealed class Run : CaseRun
    {
        private readonly Module _module;
        private readonly INoiseNet _net;
        private readonly Adam _adam;
        private readonly Edm _edm = new();
        private readonly Generator _gen = new(1);
        private readonly Tensor _x0;
        private readonly Tensor _cNoise;
        private readonly bool _train;

        public Run(IBackend be, Func<Device, Module> build, bool train, int batch = Batch, int imageSize = 32)
        {
            // A wrapped backend (the profiler) gets a device of its own, so tensors reach it rather than the shared CPU one.
            var device = ReferenceEquals(be, Device.Cpu.Backend) ? Device.Cpu : new Device(be.Name, be);
            _module = build(device);
            _net = (INoiseNet)_module;
            _train = train;
            _adam = new Adam(_module.Parameters(), lr: 1e-4f);
            _x0 = F.Clamp(_gen.Normal([batch, imageSize, imageSize, 1], device, 0, 0.5f), -1, 1).Keep();
            _cNoise = Tensor.Full([batch], 0.25f, device).Keep();
        }

        public override void Ours()
        {
            using var scope = Tensor.Scope();
            if (!_train)
            {
                using (Tensor.NoGrad()) _net.Forward(_x0, _cNoise, null);
                _x0.Backend.Synchronize();
                return;
            }
            var loss = _edm.Loss(_net, _x0, null, _gen);
            loss.Item();
            loss.Backward();
            _adam.Step();
            _adam.ZeroGrad();
            _x0.Backend.Synchronize();
        }

        protected override void Release()
        {
            _adam.Dispose();
            _module.Dispose();
            _x0.Dispose();
            _cNoise.Dispose();
        }
    }
}
