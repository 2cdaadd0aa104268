using System.CommandLine;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// Limits an option's value as the command line is parsed, before a verb does any work: a rule returns the one-line
/// message for a value it refuses (naming the option), or null. A value that does not even convert is left to the
/// parser's own message. The common limits (at least, positive, within) are here once, so the library's own checks
/// (which name its settings, not the flags) are reached only by values the command line already accepts.
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

    /// <summary>Refuses a value below <paramref name="min"/>; <paramref name="note"/> is added in brackets (e.g. what 0 means).</summary>
    public static Option<int> AtLeast(this Option<int> option, int min, string? note = null) =>
        option.Check(v => v < min ? $"{option.Name} {v} must be ≥ {min}{Note(note)}" : null);

    /// <summary>Refuses a given value below <paramref name="min"/> (absent: the default applies).</summary>
    public static Option<int?> AtLeast(this Option<int?> option, int min, string? note = null) =>
        option.Check(v => v < min ? $"{option.Name} {v} must be ≥ {min}{Note(note)}" : null);

    /// <summary>Refuses a value that is not finite and above 0.</summary>
    public static Option<float> Positive(this Option<float> option) =>
        option.Check(v => Bad(v > 0 && float.IsFinite(v), option.Name, v, "be a finite number > 0"));

    /// <summary>Refuses a given value that is not finite and above 0 (absent: the default applies).</summary>
    public static Option<float?> Positive(this Option<float?> option) =>
        option.Check(v => v is { } x ? Bad(x > 0 && float.IsFinite(x), option.Name, x, "be a finite number > 0") : null);

    /// <summary>Refuses a value that is not finite and above 0.</summary>
    public static Option<double> Positive(this Option<double> option) =>
        option.Check(v => Bad(v > 0 && double.IsFinite(v), option.Name, v, "be a finite number > 0"));

    /// <summary>Refuses a value that is not finite and at least 0; <paramref name="note"/> is added in brackets.</summary>
    public static Option<double> NonNegative(this Option<double> option, string? note = null) =>
        option.Check(v => Bad(v >= 0 && double.IsFinite(v), option.Name, v, "be finite and ≥ 0" + Note(note)));

    /// <summary>Refuses a value outside [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<double> Within(this Option<double> option, double min, double max) =>
        option.Check(v => Bad(v >= min && v <= max, option.Name, v, DiffusionCli.Inv($"lie in [{min}, {max}]")));

    /// <summary>Refuses a value that <paramref name="parse"/> rejects (an <see cref="ArgumentException"/>), naming the option before its message.</summary>
    public static Option<string?> Parses(this Option<string?> option, Action<string> parse) =>
        option.Check(v =>
        {
            if (v == null) return null;
            try
            {
                parse(v);
                return null;
            }
            catch (ArgumentException e)
            {
                return $"{option.Name}: {e.Message}";
            }
        });

    // Formatted as typed (a float's shortest form, not its double widening).
    private static string? Bad(bool ok, string name, IFormattable value, string expected) =>
        ok ? null : $"{name} {value.ToString(null, System.Globalization.CultureInfo.InvariantCulture)} must {expected}";

    private static string Note(string? note) => note == null ? "" : $" ({note})";
}
