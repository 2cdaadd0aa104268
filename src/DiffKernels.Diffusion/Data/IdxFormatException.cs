namespace DiffKernels.Diffusion.Data;

/// <summary>
/// An IDX file (or a pair of them) is malformed: wrong magic, truncated, or inconsistent with its
/// partner. An <see cref="IOException"/>, so command-line front ends report it as one line.
/// </summary>
public sealed class IdxFormatException : IOException
{
    /// <summary>Creates the exception; the message should name the file.</summary>
    public IdxFormatException(string message, Exception? inner = null) : base(message, inner) { }
}
