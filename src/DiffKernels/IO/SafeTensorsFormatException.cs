namespace DiffKernels.IO;

/// <summary>A safetensors file is malformed or unsupported. The message names the file and the problem.</summary>
public sealed class SafeTensorsFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> and a description of the <paramref name="problem"/>.</summary>
    public SafeTensorsFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }
}
