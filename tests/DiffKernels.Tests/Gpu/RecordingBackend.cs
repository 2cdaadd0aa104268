using DiffKernels.Backends;

namespace DiffKernels.Tests.Gpu;

/// <summary>Forwards every backend call to its inner backend and records the member names used, and how often.</summary>
public sealed class RecordingBackend(IBackend inner) : ForwardingBackend(inner)
{
    public HashSet<string> Called { get; } = [];

    public Dictionary<string, int> Calls { get; } = [];

    // A label may carry the op or geometry after the member name; coverage is per member.
    protected override void Enter(string label)
    {
        var member = label.Split(' ')[0];
        Called.Add(member);
        Calls[member] = Calls.GetValueOrDefault(member) + 1;
    }
}
