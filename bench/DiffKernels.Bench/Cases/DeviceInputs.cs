using DiffKernels.Backends;

namespace DiffKernels.Bench.Cases;

/// <summary>Backend buffers a case allocates, released together.</summary>
internal sealed class DeviceInputs(IBackend backend)
{
    private readonly List<DeviceBuffer> _owned = [];

    /// <summary>A buffer holding a copy of <paramref name="host"/>.</summary>
    public DeviceBuffer Upload(float[] host)
    {
        var b = Empty(host.Length);
        backend.Upload(host, b, 0);
        return b;
    }

    /// <summary>A buffer of n zeros.</summary>
    public DeviceBuffer Empty(long n)
    {
        var b = backend.Allocate(n);
        backend.Fill(b, 0, n, 0f);
        _owned.Add(b);
        return b;
    }

    /// <summary>Releases every buffer made here.</summary>
    public void Release()
    {
        foreach (var b in _owned) b.Release();
        _owned.Clear();
    }
}
