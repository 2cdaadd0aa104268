namespace DiffKernels.Autograd;

/// <summary>Thread-local switch for graph recording (NoGrad scopes nest).</summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabled;

    /// <summary>True when ops record their backward.</summary>
    public static bool IsEnabled => _disabled == 0;

    /// <summary>Disables recording until the returned handle is disposed.</summary>
    public static IDisposable Disable()
    {
        _disabled++;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _disabled--;
        }
    }
}
