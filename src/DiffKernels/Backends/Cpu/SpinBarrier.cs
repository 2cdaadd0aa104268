namespace DiffKernels.Backends.Cpu;

/// <summary>
/// A reusable barrier for the participants of one pool job: the last to arrive opens the next
/// phase; the others spin, yielding the core when it is oversubscribed.
/// </summary>
internal sealed class SpinBarrier
{
    private int _count;
    private int _remaining;
    private int _phase;

    /// <summary>Prepares the barrier for <paramref name="count"/> participants (before the job starts).</summary>
    public void Reset(int count)
    {
        _count = count;
        _remaining = count;
    }

    /// <summary>Blocks until every participant has called it in this phase.</summary>
    public void Wait()
    {
        if (_count <= 1) return;
        int phase = Volatile.Read(ref _phase);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _remaining = _count;
            Volatile.Write(ref _phase, phase + 1);
            return;
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _phase) == phase) spin.SpinOnce(sleep1Threshold: -1);
    }
}
