namespace DiffKernels.Tests.Support;

/// <summary>Files of the repository that tests read (the committed models, the PyTorch scripts).</summary>
public static class RepoFiles
{
    /// <summary>The repository root (the folder of DiffKernels.sln), found by walking up from the test binaries.</summary>
    internal static string Root()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "DiffKernels.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (DiffKernels.sln) not found above the test directory");
    }

    /// <summary>The repository's models/ folder.</summary>
    internal static string ModelsDir() => Path.Combine(Root(), "models");

    /// <summary>A path under the repository root, given by its parts (e.g. "bench", "torch", "sampling.py").</summary>
    internal static string At(params string[] parts) => Path.Combine([Root(), .. parts]);
}
