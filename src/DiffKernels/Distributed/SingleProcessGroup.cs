using DiffKernels.Tensors;

namespace DiffKernels.Distributed;

/// <summary>The group of one process: rank 0 of 1, where every collective leaves its buffers as they are.</summary>
public sealed class SingleProcessGroup : IProcessGroup
{
    /// <summary>The one instance (it holds nothing).</summary>
    public static SingleProcessGroup Instance { get; } = new();

    private SingleProcessGroup()
    {
    }

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int WorldSize => 1;

    /// <inheritdoc/>
    public string Name => "single";

    /// <inheritdoc/>
    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
    }

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root) => CheckRoot(root);

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root) => CheckRoot(root);

    /// <inheritdoc/>
    public void Barrier()
    {
    }

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }

    private static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), $"broadcast root {root}: a single-process group has only rank 0");
    }
}
