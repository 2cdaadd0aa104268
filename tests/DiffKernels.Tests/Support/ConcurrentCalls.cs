namespace DiffKernels.Tests.Support;

/// <summary>Checks that a call gives the same values from several threads at once as it gives alone.</summary>
public static class ConcurrentCalls
{
    /// <summary>
    /// Runs <paramref name="draw"/>(thread, call) for every thread and call first on this thread, then from
    /// <paramref name="threads"/> threads released together (each making its <paramref name="calls"/> calls in order), and
    /// asserts that every call gave the same values both times.
    /// </summary>
    public static void AssertSameAsAlone(int threads, int calls, Func<int, int, float[]> draw)
    {
        var alone = new float[threads, calls][];
        for (int t = 0; t < threads; t++)
            for (int c = 0; c < calls; c++) alone[t, c] = draw(t, c);

        var together = new float[threads, calls][];
        var errors = new Exception?[threads];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            // A worker's exception would end the test process; it fails the test instead.
            try
            {
                for (int c = 0; c < calls; c++) together[t, c] = draw(t, c);
            }
            catch (Exception e)
            {
                errors[t] = e;
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        if (errors.FirstOrDefault(e => e != null) is { } error) throw new AggregateException($"a thread of {threads} failed: {error.Message}", error);

        for (int t = 0; t < threads; t++)
            for (int c = 0; c < calls; c++)
                Assert.That(together[t, c], Is.EqualTo(alone[t, c]), $"thread {t}, call {c}");
    }
}
