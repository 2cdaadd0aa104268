namespace DiffKernels.Bench.Harness;

/// <summary>
/// Times several actions in interleaved rounds (each round runs every action once, the order rotating
/// from round to round), so a burst of background load on a shared machine hits all of them alike
/// and their ratio stays meaningful.
/// </summary>
public static class InterleavedTimer
{
    /// <summary>Per action, the duration in seconds of each timed run.</summary>
    public static double[][] Run(IReadOnlyList<Action> actions, TimingOptions options, IBenchClock clock)
    {
        int count = actions.Count;
        if (count == 0) return [];
        double start = clock.Now;
        for (int round = 0; round < options.WarmupRuns || clock.Now - start < options.WarmupSeconds; round++)
            foreach (var a in actions) a();

        var samples = Enumerable.Range(0, count).Select(_ => new List<double>()).ToArray();
        start = clock.Now;
        for (int round = 0; round < options.MaxRuns; round++)
        {
            if (round >= options.MinRuns && clock.Now - start >= options.MinSeconds) break;
            for (int j = 0; j < count; j++)
            {
                int i = (j + round) % count;
                double t0 = clock.Now;
                actions[i]();
                samples[i].Add(clock.Now - t0);
            }
        }
        return samples.Select(s => s.ToArray()).ToArray();
    }
}
