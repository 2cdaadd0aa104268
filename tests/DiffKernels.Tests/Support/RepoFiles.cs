namespace DiffKernels.Tests.Support;

/// <summary>Files of the repository that tests read (the committed models).</summary>
public static class RepoFiles
{
    /// <summary>The repository's models/ folder, found by walking up from the test binaries.</summary>
    internal static string ModelsDir()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "DiffKernels.sln"))) return Path.Combine(d.FullName, "models");
        throw new DirectoryNotFoundException("repository root (DiffKernels.sln) not found above the test directory");
    }
}
