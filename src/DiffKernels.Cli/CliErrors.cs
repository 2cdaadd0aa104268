using System.CommandLine;

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

    /// <summary>
    /// Reports the first error of a command line that did not parse as "dk {command}: message" in one line, an unknown
    /// option or argument named as such, and returns <see cref="UserError"/>.
    /// </summary>
    public static int ParseError(ParseResult parse, TextWriter error)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c != null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            if (c.Parent != null) names.Insert(0, c.Command.Name);
        string command = names.Count > 0 ? string.Join(' ', names) : "";
        string help = command.Length > 0 ? $"dk {command} --help" : "dk --help";
        // An unknown word also leaves its value unmatched ("'3' was not matched"); the word itself is what to report.
        var unknown = parse.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-'));
        string message = unknown != null ? $"unknown option {unknown} ({help} lists the options)"
            : parse.UnmatchedTokens.Count > 0 ? $"unexpected argument '{parse.UnmatchedTokens[0]}' ({help} lists the commands and options)"
            : Readable(parse.Errors[0].Message);
        error.WriteLine($"dk{(command.Length > 0 ? " " + command : "")}: {OneLine(message)}");
        return UserError;
    }

    // The parser names .NET types ("System.Nullable`1[System.Int32]"); the command line wants the kind of value expected.
    private static string Readable(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\.?$");
        if (!m.Success) return message;
        string type = m.Groups[3].Value;
        string expected = type.Contains("Int") ? "a whole number" : type.Contains("Single") || type.Contains("Double") ? "a number" : type.Contains("Boolean") ? "true or false" : "a " + type;
        return $"{m.Groups[2].Value} {m.Groups[1].Value}: expected {expected}";
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
