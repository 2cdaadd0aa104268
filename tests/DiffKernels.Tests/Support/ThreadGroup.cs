using DiffKernels.Distributed;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// A process group of threads in this process: <see cref="Run{T}"/> starts one thread per rank, each with its own group,
/// and their collectives meet at a shared barrier. Sums add the ranks' buffers in rank order, as MPI's reduction of two
/// ranks does, so a data-parallel run is checked against its one-process run without a launcher. A rank that fails
/// releases the others from their next collective, so a test fails with its error instead of hanging.
/// </summary>
public sealed class ThreadGroup : IProcessGroup
{
    private readonly Hub _hub;

    private ThreadGroup(Hub hub, int rank)
    {
        _hub = hub;
        Rank = rank;
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int WorldSize => _hub.Slots.Length;

    /// <inheritdoc/>
    public string Name => "threads";

    /// <summary>
    /// Runs <paramref name="body"/> for ranks 0 … <paramref name="worldSize"/> − 1 on their own threads, each with its
    /// group, and returns their results by rank; rethrows the first rank's failure.
    /// </summary>
    public static T[] Run<T>(int worldSize, Func<ThreadGroup, T> body)
    {
        var hub = new Hub(worldSize);
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = body(new ThreadGroup(hub, rank));
            }
            catch (Exception e)
            {
                errors[rank] = e;
                hub.Failed.Cancel();
            }
        }, 16 << 20)).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        hub.Barrier.Dispose();
        hub.Failed.Dispose();
        // The first failure is the cause; the others are ranks released from a collective by it.
        var cause = errors.FirstOrDefault(e => e is not null and not OperationCanceledException) ?? errors.FirstOrDefault(e => e != null);
        if (cause != null) throw new AggregateException($"a rank of {worldSize} failed: {cause.Message}", cause);
        return results;
    }

    /// <inheritdoc/>
    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
        var flat = tensors.SelectMany(t => t.ToArray()).ToArray();
        AllReduceSum(flat.AsSpan());
        long at = 0;
        foreach (var t in tensors)
        {
            t.Backend.Upload(flat.AsSpan((int)at, (int)t.Numel), t.Storage, 0);
            at += t.Numel;
        }
    }

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        var flat = tensors.SelectMany(t => t.ToArray()).ToArray();
        Broadcast(flat.AsSpan(), root);
        long at = 0;
        foreach (var t in tensors)
        {
            t.Backend.Upload(flat.AsSpan((int)at, (int)t.Numel), t.Storage, 0);
            at += t.Numel;
        }
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
        var all = Exchange(values);
        for (int i = 0; i < values.Length; i++)
        {
            float sum = all[0][i];
            for (int r = 1; r < all.Length; r++) sum += all[r][i];
            values[i] = sum;
        }
        Meet();
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"broadcast root {root}: expected a rank below {WorldSize}");
        var all = Exchange(values);
        all[root].CopyTo(values);
        Meet();
    }

    /// <inheritdoc/>
    public void Barrier() => Meet();

    /// <summary>Nothing to release (the threads end with <see cref="Run{T}"/>).</summary>
    public void Dispose()
    {
    }

    // Every rank posts its buffer, then reads them all; the caller meets the others again before a slot is reused.
    private float[][] Exchange(Span<float> values)
    {
        _hub.Slots[Rank] = values.ToArray();
        Meet();
        int length = values.Length;
        if (_hub.Slots.Any(s => s.Length != length))
            throw new InvalidOperationException($"rank {Rank}: a collective of {length} values met buffers of {string.Join(", ", _hub.Slots.Select(s => s.Length))}");
        return _hub.Slots;
    }

    private void Meet()
    {
        if (!_hub.Barrier.SignalAndWait(TimeSpan.FromSeconds(120), _hub.Failed.Token))
            throw new TimeoutException($"rank {Rank}: the other ranks did not reach the collective within 120 s");
    }

    private sealed class Hub(int worldSize)
    {
        public float[][] Slots { get; } = Enumerable.Range(0, worldSize).Select(_ => Array.Empty<float>()).ToArray();

        public Barrier Barrier { get; } = new(worldSize);

        public CancellationTokenSource Failed { get; } = new();
    }
}
