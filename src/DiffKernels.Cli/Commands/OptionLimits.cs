using System.CommandLine;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// Limits an option's value as the command line is parsed, before a verb does any work: a rule returns the one-line
/// message for a value it refuses (naming the option), or null. A value that does not even convert is left to the
/// parser's own message.
/// </summary>
internal static class OptionLimits
{
    /// <summary>Adds <paramref name="rule"/> to <paramref name="option"/>'s validators; returns the option.</summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, string?> rule)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                // Not a T at all: the parser reports the conversion.
                return;
            }
            if (rule(value) is { } error) result.AddError(error);
        });
        return option;
    }
}
