using DiffKernels.Backends;

namespace DiffKernels.Tests.Gpu;

/// <summary>Forwards every backend call to its inner backend and records the member names used.</summary>
public sealed class RecordingBackend(IBackend inner) : ForwardingBackend(inner)
{
    public HashSet<string> Called { get; } = [];

    // A label may carry the op or geometry after the member name; coverage is per member.
    protected override void Enter(string label) => Called.Add(label.Split(' ')[0]);
}
