namespace DiffKernels.IO;

/// <summary>A safetensors file is malformed or unsupported. The message names the file and the problem.</summary>
public sealed class SafeTensorsFormatException : InvalidInputException
{
    /// <summary>Creates the exception for <paramref name="path"/> and a description of the <paramref name="problem"/>.</summary>
    public SafeTensorsFormatException(string path, string problem, Exception? inner = null)
        : base(path, problem, inner)
    {
    }

    /// <summary>The file.</summary>
    public string FilePath => Subject;
}
