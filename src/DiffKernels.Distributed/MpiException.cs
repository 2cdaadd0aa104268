namespace DiffKernels.Distributed;

/// <summary>A collective failed (typically because another rank died or the network went away).</summary>
public sealed class MpiException(string message) : Exception(message);
