using DiffKernels.Tensors;

namespace DiffKernels.Distributed;

/// <summary>
/// The processes of one data-parallel run: each knows its <see cref="Rank"/> among <see cref="WorldSize"/>, and
/// all of them call the collectives in the same order with buffers of the same sizes (a collective is a meeting
/// point: a rank that skips one leaves the others waiting or failing). Reductions and broadcasts work in place.
/// A group over MPI or NCCL lives outside the core (an optional package loads the native library at run time);
/// <see cref="SingleProcessGroup"/> is the one-process group every run has by default.
/// </summary>
public interface IProcessGroup : IDisposable
{
    /// <summary>This process's index, 0 ≤ rank &lt; <see cref="WorldSize"/>; rank 0 writes the run's files.</summary>
    int Rank { get; }

    /// <summary>How many processes take part.</summary>
    int WorldSize { get; }

    /// <summary>The transport, as messages name it ("single", "mpi", "nccl").</summary>
    string Name { get; }

    /// <summary>Replaces every element of each tensor by its sum over all ranks (the tensors reduced together, as one call).</summary>
    void AllReduceSum(IReadOnlyList<Tensor> tensors);

    /// <summary>Replaces each tensor's elements by those of rank <paramref name="root"/>.</summary>
    void Broadcast(IReadOnlyList<Tensor> tensors, int root);

    /// <summary>Replaces every element of a host buffer by its sum over all ranks.</summary>
    void AllReduceSum(Span<float> values);

    /// <summary>Replaces a host buffer's elements by those of rank <paramref name="root"/>.</summary>
    void Broadcast(Span<float> values, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}
