using DiffKernels.Gpu;
using DiffKernels.Tensors;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Distributed;

/// <summary>
/// A process group whose tensor collectives run on NCCL between NVIDIA GPUs, one GPU per rank: rank 0's
/// communicator id travels to the others over MPI, and reductions and broadcasts read and write the tensors' device
/// memory in place on the backend's CUDA stream (no host copies; one fused NCCL group per call). Host buffers, the
/// barrier and tensors that are not on a CUDA device go over <see cref="MpiProcessGroup"/>. Written against NCCL's
/// documented C API but not yet run on GPUs (none was available where it was written).
/// </summary>
public sealed class NcclProcessGroup : IProcessGroup
{
    private readonly MpiProcessGroup _mpi;
    private readonly NcclLibrary _nccl;
    private readonly IntPtr _comm;

    /// <summary>Joins MPI's world, then builds the NCCL communicator over the same ranks on the current CUDA device.</summary>
    public unsafe NcclProcessGroup()
    {
        _mpi = new MpiProcessGroup();
        try
        {
            _nccl = new NcclLibrary();
            var id = _mpi.Rank == 0 ? _nccl.UniqueId() : default;
            _mpi.Library.BroadcastBytes(&id, NcclUniqueId.Bytes, 0);
            _comm = _nccl.InitRank(id, _mpi.WorldSize, _mpi.Rank);
        }
        catch
        {
            _mpi.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public int Rank => _mpi.Rank;

    /// <inheritdoc/>
    public int WorldSize => _mpi.WorldSize;

    /// <inheritdoc/>
    public string Name => "nccl";

    /// <inheritdoc/>
    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
        if (!OnCuda(tensors, out var stream)) _mpi.AllReduceSum(tensors);
        else Fused(tensors, t => _nccl.AllReduceSum(Address(t), t.Numel, _comm, stream));
    }

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"broadcast root {root}: expected a rank below {WorldSize}");
        if (!OnCuda(tensors, out var stream)) _mpi.Broadcast(tensors, root);
        else Fused(tensors, t => _nccl.Broadcast(Address(t), t.Numel, root, _comm, stream));
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values) => _mpi.AllReduceSum(values);

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root) => _mpi.Broadcast(values, root);

    /// <inheritdoc/>
    public void Barrier() => _mpi.Barrier();

    /// <summary>Ends every rank with <paramref name="code"/> (see <see cref="MpiProcessGroup.Abort"/>).</summary>
    public void Abort(int code) => _mpi.Abort(code);

    /// <summary>Releases the communicator and finalises MPI.</summary>
    public void Dispose()
    {
        _nccl.Destroy(_comm);
        _mpi.Dispose();
    }

    // One NCCL group: the calls are queued together and run as one launch on the stream.
    private void Fused(IReadOnlyList<Tensor> tensors, Action<Tensor> call)
    {
        _nccl.GroupStart();
        try
        {
            foreach (var t in tensors) call(t);
        }
        finally
        {
            _nccl.GroupEnd();
        }
    }

    // All tensors on one CUDA backend: its stream orders the collectives after the kernels that wrote them.
    private static bool OnCuda(IReadOnlyList<Tensor> tensors, out IntPtr stream)
    {
        stream = IntPtr.Zero;
        if (tensors.Count == 0 || tensors[0].Backend is not GpuBackend gpu || gpu.Stream is not CudaStream cuda) return false;
        if (tensors.Any(t => !ReferenceEquals(t.Backend, gpu)))
            throw new ArgumentException("NCCL collectives take tensors of one CUDA device per call");
        stream = cuda.StreamPtr;
        return true;
    }

    private static IntPtr Address(Tensor t) => ((GpuBuffer)t.Storage).Address;
}
