namespace DiffKernels.Cli;

/// <summary>
/// Turns expected user-facing failures (bad or missing files) into one stderr line and exit code 2;
/// anything else is a bug and keeps its stack trace.
/// </summary>
internal static class CliErrors
{
    /// <summary>The exit code for a failure caused by the user's input.</summary>
    public const int UserError = 2;

    /// <summary>Runs <paramref name="body"/>, reporting expected failures as "dk {command}: message".</summary>
    public static int Run(string command, TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is InvalidInputException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"dk {command}: {OneLine(e.Message)}");
            return UserError;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
