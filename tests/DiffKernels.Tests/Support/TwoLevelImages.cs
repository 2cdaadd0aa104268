using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// A trivial image distribution: 8×8×1 images filled with −0.6 (class 0) or +0.6 (class 1), each with probability ½,
/// drawn from the trainer's generator so batches depend on its state only (resumable). <paramref name="poison"/>
/// replaces every pixel by NaN, to exercise the trainer's non-finite handling.
/// </summary>
internal sealed class TwoLevelImages(bool poison = false) : IDataSource
{
    public const int Side = 8;

    public const float Level = 0.6f;

    public string Name => poison ? "two-level-nan" : "two-level";

    public Shape SampleShape => [Side, Side, 1];

    public int NumClasses => 2;

    public DataBatch Batch(long step, int batchSize, Generator gen, Device? device = null)
    {
        var u = gen.Uniform([batchSize], Device.Cpu).ToArray();
        var labels = u.Select(v => v < 0.5f ? 0f : 1f).ToArray();
        var pixels = new float[batchSize * Side * Side];
        for (int i = 0; i < batchSize; i++)
            pixels.AsSpan(i * Side * Side, Side * Side).Fill(poison ? float.NaN : labels[i] == 0 ? -Level : Level);
        return new DataBatch(Tensor.FromSpan(pixels, [batchSize, Side, Side, 1], device), Tensor.FromSpan(labels, [batchSize], device));
    }

    /// <summary><paramref name="n"/> clean images flattened to 64-vectors, from Generator(<paramref name="seed"/>).</summary>
    public static float[] Sample(int n, ulong seed)
    {
        using var scope = Tensor.Scope();
        return new TwoLevelImages().Batch(0, n, new Generator(seed)).X.ToArray();
    }
}
