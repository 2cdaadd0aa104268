using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;
using DiffKernels.Diffusion.Models;
using DiffKernels.Tensors;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// The shapes a GPU run measures, where the CPU cases' shapes are too small to fill a device: 4096³ SGEMM, the
/// 3×3 convolutions of UNet-S's three levels at batch 256, attention at DiT-S/4's and UNet-S's 8×8 shapes at
/// batch 256, GroupNorm+SiLU on UNet-S's largest activation, the fused EDM training-input op, a 256 MB device copy
/// (the bandwidth yardstick of the memory-bound ops) and the UNet-S training step at batch 256. bench/torch/gpu_cases.py
/// times the same names in PyTorch. Each case has a tiny shape for rehearsing the run on the emulator.
/// </summary>
internal static class DeviceCases
{
    /// <summary>Batch of the model-shaped cases.</summary>
    public const int Batch = 256;

    /// <summary>Elements of the copy case: 256 MB of floats.</summary>
    public const long CopyElements = 64L << 20;

    public static IEnumerable<BenchCase> All()
    {
        foreach (var (suffix, ta, tb) in new[] { ("", false, false), ("-nt", false, true), ("-tn", true, false) })
            yield return GemmCases.Case($"gemm-4096{suffix}", ta, tb, 4096, "device-gemm", GemmCases.Case($"gemm-4096{suffix}", ta, tb, 64, "device-gemm"));

        // UNet-S (base 32, multipliers 1, 2, 2): 32 channels at 32×32, 64 at 16×16 and at 8×8.
        foreach (var (side, channels) in new[] { (32, 32), (16, 64), (8, 64) })
        {
            var full = new Conv2dGeometry(Batch, side, side, channels, channels, 3, 3, 1, 1, 1, 1);
            // The emulator runs every thread of a group as an OS thread with barriers per 8-deep slab: few channels keep it to seconds.
            var tiny = full with { N = 1, H = 4, W = 4, Cin = 8, Cout = 8 };
            foreach (var pass in Enum.GetValues<ConvCases.Pass>())
            {
                string name = $"conv2d-b256-{side}px-{ConvCases.Suffix(pass)}";
                yield return ConvCases.Case(name, "device-conv2d", full, pass, ConvCases.Case(name, "device-conv2d", tiny, pass));
            }
        }

        // DiT-S/4 on 32×32: 64 tokens, 3 heads of 64; UNet-S at 8×8: 64 tokens, one head of 64.
        foreach (var (model, heads) in new[] { ("dit-s4", 3), ("unet-8x8", 1) })
            foreach (bool backward in new[] { false, true })
            {
                string name = $"attention-{model}-{(backward ? "bwd" : "fwd")}";
                yield return AttentionCases.Case(name, "device-attention", Batch, 64, heads, 64, backward,
                    AttentionCases.Case(name, "device-attention", 1, 16, heads, 64, backward));
            }

        var activation = new MemoryBoundCases.Activation(Batch, 32 * 32, 32);
        var tinyActivation = new MemoryBoundCases.Activation(1, 8 * 8, 32);
        foreach (bool backward in new[] { false, true })
        {
            string name = $"groupnorm-silu-b256-{(backward ? "bwd" : "fwd")}";
            yield return MemoryBoundCases.GroupNorm(name, "device-memory", activation, backward, MemoryBoundCases.GroupNorm(name, "device-memory", tinyActivation, backward));
        }
        yield return Copy(CopyElements, Copy(4096));
        yield return EdmInputs(Batch, 32, EdmInputs(2, 8));

        yield return ModelCases.UNetTrain("unet-s-train-b256", "device-model", UNetConfig.S(), "UNet-S", Batch,
            ModelCases.UNetTrain("unet-s-train-b256", "device-model", UNetConfig.S() with { ImageSize = 8 }, "UNet-S", 1));
    }

    private static BenchCase Copy(long elements, BenchCase? tiny = null) =>
        new("copy-256mb", "device-memory", $"y = x, {elements:N0} floats ({elements * 4.0 / (1 << 20):0.##} MB), contiguous", BenchUnit.GBPerSecond,
            8.0 * elements, be => new CopyRun(be, elements), Tiny: tiny);

    private static BenchCase EdmInputs(int batch, int side, BenchCase? tiny = null) =>
        new("edm-training-inputs-b256", "device-memory", $"fused EDM training inputs (x, c_in·x, target, c_noise from x0, noise, σ), {batch}×{side}×{side}×1",
            BenchUnit.GBPerSecond, 20.0 * batch * side * side, be => new EdmInputsRun(be, batch, side * side), Tiny: tiny);

    private sealed class CopyRun : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly DeviceBuffer _x, _y;
        private readonly long _n;

        public CopyRun(IBackend be, long n)
        {
            (_be, _n) = (be, n);
            _dev = new DeviceInputs(be);
            _x = _dev.Upload(HostArrays.Random(n, 51));
            _y = _dev.Empty(n);
        }

        public override void Ours()
        {
            _be.CopyStrided(_x, 0, [1], _y, 0, [1], new Shape((int)_n));
            _be.Synchronize();
        }

        protected override void Release() => _dev.Release();
    }

    private sealed class EdmInputsRun : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly DeviceBuffer _x0, _noise, _sigma, _x, _netIn, _target, _cNoise;
        private readonly int _batch;
        private readonly long _perSample;

        public EdmInputsRun(IBackend be, int batch, long perSample)
        {
            (_be, _batch, _perSample) = (be, batch, perSample);
            _dev = new DeviceInputs(be);
            long n = batch * perSample;
            _x0 = _dev.Upload(HostArrays.Random(n, 61));
            _noise = _dev.Upload(HostArrays.Random(n, 62));
            var sigma = HostArrays.Random(batch, 63);
            for (int i = 0; i < batch; i++) sigma[i] = MathF.Exp(-1.2f + 1.2f * sigma[i]);
            _sigma = _dev.Upload(sigma);
            (_x, _netIn, _target, _cNoise) = (_dev.Empty(n), _dev.Empty(n), _dev.Empty(n), _dev.Empty(batch));
        }

        public override void Ours()
        {
            _be.EdmTrainingInputs(_x0, _noise, _sigma, _x, _netIn, _target, _cNoise, _batch, _perSample, 0.5f);
            _be.Synchronize();
        }

        protected override void Release() => _dev.Release();
    }
}
