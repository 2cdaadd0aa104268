using DiffKernels.Tensors;

namespace DiffKernels.Distributed;

/// <summary>
/// A process group over MPI's world communicator (the processes mpirun or srun started). Tensors are reduced in
/// buckets: up to <see cref="BucketFloats"/> elements of consecutive tensors are gathered into one host buffer, summed
/// by one MPI_Allreduce and scattered back, so a network of many small tensors costs few collectives. Device tensors
/// go through the host; <see cref="NcclProcessGroup"/> reduces them on the GPUs. Dispose finalises MPI.
/// </summary>
public sealed unsafe class MpiProcessGroup : IProcessGroup
{
    /// <summary>Elements per reduction bucket (4 MiB of floats).</summary>
    public const int BucketFloats = 1 << 20;

    private readonly MpiLibrary _mpi;
    private float[] _bucket = [];

    /// <summary>Initialises MPI (the launcher's environment says who is who) and joins the world communicator.</summary>
    public MpiProcessGroup()
    {
        _mpi = new MpiLibrary();
        _mpi.Init();
        Rank = _mpi.Rank();
        WorldSize = _mpi.Size();
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int WorldSize { get; }

    /// <inheritdoc/>
    public string Name => "mpi";

    /// <summary>The library, for a group that builds on MPI (NCCL's id exchange).</summary>
    internal MpiLibrary Library => _mpi;

    /// <inheritdoc/>
    public void AllReduceSum(IReadOnlyList<Tensor> tensors) => Bucketed(tensors, (p, n) => _mpi.AllReduceSum(p, n));

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        CheckRoot(root);
        Bucketed(tensors, (p, n) => _mpi.Broadcast(p, n, root));
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values)
            for (int start = 0; start < values.Length; start += BucketFloats)
                _mpi.AllReduceSum(p + start, Math.Min(BucketFloats, values.Length - start));
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root)
    {
        CheckRoot(root);
        fixed (float* p = values)
            for (int start = 0; start < values.Length; start += BucketFloats)
                _mpi.Broadcast(p + start, Math.Min(BucketFloats, values.Length - start), root);
    }

    /// <inheritdoc/>
    public void Barrier() => _mpi.Barrier();

    /// <summary>Ends every rank with <paramref name="code"/>: a rank that failed calls it so that none waits on it forever.</summary>
    public void Abort(int code) => _mpi.Abort(code);

    /// <summary>Finalises MPI.</summary>
    public void Dispose() => _mpi.FinalizeOnce();

    private delegate void Collective(float* data, int count);

    // Consecutive tensors fill the bucket; a tensor larger than a bucket is split across several.
    private void Bucketed(IReadOnlyList<Tensor> tensors, Collective collective)
    {
        long total = tensors.Sum(t => t.Numel);
        if (_bucket.Length < Math.Min(total, BucketFloats)) _bucket = GC.AllocateArray<float>((int)Math.Min(total, BucketFloats), pinned: true);
        var pending = new List<(Tensor Tensor, long From, int At, int Count)>();
        int filled = 0;
        void Flush()
        {
            if (filled == 0) return;
            fixed (float* p = _bucket) collective(p, filled);
            foreach (var (t, from, at, count) in pending) t.Backend.Upload(_bucket.AsSpan(at, count), t.Storage, from);
            pending.Clear();
            filled = 0;
        }
        foreach (var t in tensors)
        {
            for (long from = 0; from < t.Numel;)
            {
                int count = (int)Math.Min(t.Numel - from, _bucket.Length - filled);
                t.Backend.Download(t.Storage, from, _bucket.AsSpan(filled, count));
                pending.Add((t, from, filled, count));
                filled += count;
                from += count;
                if (filled == _bucket.Length) Flush();
            }
        }
        Flush();
    }

    private void CheckRoot(int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"broadcast root {root}: expected a rank below {WorldSize}");
    }
}
