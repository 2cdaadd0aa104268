using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace DiffKernels.Backends.Cpu;

/// <summary>
/// Persistent worker threads for the CPU kernels. One job runs at a time: job(i, count) for every
/// participant i &lt; count concurrently, participant 0 on the calling thread. Idle workers spin for a
/// few tens of microseconds before sleeping, so back-to-back kernels of a training step do not pay a
/// thread wake-up each. A call made while the pool is busy (from inside a job, or from a second thread)
/// runs inline as a single participant, so kernels must give the same result for any participant count.
/// </summary>
internal sealed class WorkerPool
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 µs
    [ThreadStatic] private static bool t_inJob;

    private readonly List<Worker> _workers = [];
    private readonly object _doneLock = new();
    private Action<int, int>? _job;
    private int _count;
    private int _pending;
    private int _busy;
    private ExceptionDispatchInfo? _error;

    /// <summary>A barrier sized to the running job's participants; only they may wait on it.</summary>
    public SpinBarrier JobBarrier { get; } = new();

    /// <summary>The process-wide pool.</summary>
    public static WorkerPool Shared { get; } = new();

    /// <summary>
    /// Claims the pool for one job; false when it is busy or the caller is itself a participant.
    /// A successful claim must be followed by <see cref="Release"/>.
    /// </summary>
    public bool TryClaim() => !t_inJob && Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    /// <summary>Gives the pool back after <see cref="TryClaim"/>.</summary>
    public void Release() => Volatile.Write(ref _busy, 0);

    /// <summary>Runs job(i, count) for i &lt; count on the claimed pool and waits for all; rethrows the first failure.</summary>
    public void RunClaimed(int count, Action<int, int> job)
    {
        _error = null;
        JobBarrier.Reset(count);
        if (count <= 1)
        {
            RunParticipant(job, 0, 1);
            TakeError()?.Throw();
            return;
        }
        while (_workers.Count < count - 1) _workers.Add(new Worker(this, _workers.Count + 1));
        _job = job;
        _count = count;
        Volatile.Write(ref _pending, count - 1);
        for (int i = 0; i < count - 1; i++) _workers[i].Wake();
        RunParticipant(job, 0, count);
        WaitForWorkers();
        _job = null;
        TakeError()?.Throw();
    }

    private ExceptionDispatchInfo? TakeError() => Interlocked.Exchange(ref _error, null);

    private void RunParticipant(Action<int, int> job, int index, int count)
    {
        bool outer = t_inJob;
        t_inJob = true;
        try
        {
            job(index, count);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            t_inJob = outer;
        }
    }

    private void WaitForWorkers()
    {
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        while (Volatile.Read(ref _pending) != 0)
        {
            if (Stopwatch.GetTimestamp() <= until)
            {
                Thread.SpinWait(16);
                continue;
            }
            // The count, not a signal, is the condition: a late pulse from an earlier job is harmless.
            lock (_doneLock)
                while (Volatile.Read(ref _pending) != 0) Monitor.Wait(_doneLock);
        }
    }

    private void Finished()
    {
        if (Interlocked.Decrement(ref _pending) != 0) return;
        lock (_doneLock) Monitor.PulseAll(_doneLock);
    }

    /// <summary>One background thread: spins briefly for the next job, then sleeps on its semaphore.</summary>
    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly int _index;
        private readonly SemaphoreSlim _wake = new(0);
        private int _go;
        private int _sleeping;

        public Worker(WorkerPool pool, int index)
        {
            (_pool, _index) = (pool, index);
            new Thread(Loop) { IsBackground = true, Name = $"dk-cpu-{index}" }.Start();
        }

        public void Wake()
        {
            Interlocked.Exchange(ref _go, 1);
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            while (true)
            {
                WaitForGo();
                if (_index < _pool._count) _pool.RunParticipant(_pool._job!, _index, _pool._count);
                _pool.Finished();
            }
        }

        /// <summary>Returns once it has taken a go signal; a wake-up without one (see below) goes back to waiting.</summary>
        private void WaitForGo()
        {
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            while (Interlocked.Exchange(ref _go, 0) == 0)
            {
                if (Stopwatch.GetTimestamp() <= until)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                Volatile.Write(ref _sleeping, 1);
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _go) == 1)
                {
                    // Woken between the spin and the sleep: if the waker already took the flag, it
                    // released the semaphore too, and that release must be consumed.
                    if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();
                    continue;
                }
                // A waker preempted between setting _go and taking _sleeping may release the semaphore
                // after this worker already took that go and ran the job: such a wake-up carries no job,
                // and running one anyway would count a participant twice and hang the caller.
                _wake.Wait();
            }
        }
    }
}
