using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

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
    public static Option<T> Check<T>(this Option<T> option, Func<T, string?> rule) => option.Check((value, _) => rule(value));

    /// <summary>
    /// Adds <paramref name="rule"/>, which gets the value and the value as typed (what a message should quote: "1e999",
    /// not the ∞ it overflowed to), to <paramref name="option"/>'s validators; returns the option.
    /// </summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, string, string?> rule)
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
            string typed = result.Tokens.Count > 0 ? result.Tokens[^1].Value : Format(value);
            if (rule(value, typed) is { } error) result.AddError(error);
        });
        return option;
    }

    /// <summary>
    /// Adds a rule over several of <paramref name="command"/>'s options together (e.g. one that must stay below another),
    /// checked as the command line is parsed after each option's own limits; the rule returns the one-line message naming the
    /// flags, or null.
    /// </summary>
    public static void Together(this Command command, Func<CommandResult, string?> rule) =>
        command.Validators.Add(result =>
        {
            // The parser checks a command's own rules before its options' and stops at the first that fails, so the
            // options' limits are applied here first: an option out of its own limits is reported as such (and the rule,
            // which may read it, is not run).
            var options = result.Children.OfType<OptionResult>().ToList();
            if (!options.Any(o => o.Errors.Any()))
                foreach (var o in options)
                    foreach (var validate in o.Option.Validators)
                        validate(o);
            if (options.Any(o => o.Errors.Any())) return;
            string? error;
            try
            {
                error = rule(result);
            }
            catch (InvalidOperationException)
            {
                // An option that is not its type at all: the parser reports the conversion.
                return;
            }
            if (error != null) result.AddError(error);
        });

    /// <summary>
    /// The value of <paramref name="option"/> in a rule of <see cref="Together"/>: the given one, else its default (while the
    /// command line is checked, an option not given has no result yet that holds its default).
    /// </summary>
    public static T Value<T>(this CommandResult result, Option<T> option) =>
        result.GetResult(option) != null ? result.GetValue(option)! : option.GetDefaultValue() is T value ? value : default!;

    /// <summary>
    /// <paramref name="option"/> and its value as <paramref name="result"/> holds it, for a message: "--name value", the
    /// value as typed when given, else its default.
    /// </summary>
    public static string Quote<T>(this CommandResult result, Option<T> option) =>
        result.GetResult(option) is OptionResult { Implicit: false, Tokens.Count: > 0 } given
            ? $"{option.Name} {given.Tokens[^1].Value}"
            : $"{option.Name} {Format(result.Value(option))}";

    /// <summary>Refuses a value below <paramref name="min"/>; <paramref name="note"/> is added in brackets (e.g. what 0 means).</summary>
    public static Option<int> AtLeast(this Option<int> option, int min, string? note = null) =>
        option.Check((v, typed) => v < min ? $"{option.Name} {typed} must be ≥ {min}{Note(note)}" : null);

    /// <summary>Refuses a given value below <paramref name="min"/> (absent: the default applies).</summary>
    public static Option<int?> AtLeast(this Option<int?> option, int min, string? note = null) =>
        option.Check((v, typed) => v < min ? $"{option.Name} {typed} must be ≥ {min}{Note(note)}" : null);

    /// <summary>Refuses a value that is not finite and above 0.</summary>
    public static Option<float> Positive(this Option<float> option) => Number(option, x => x > 0, "be a finite number > 0");

    /// <summary>Refuses a given value that is not finite and above 0 (absent: the default applies).</summary>
    public static Option<float?> Positive(this Option<float?> option) => Number(option, x => x > 0, "be a finite number > 0");

    /// <summary>Refuses a value that is not finite and above 0.</summary>
    public static Option<double> Positive(this Option<double> option) => Number(option, x => x > 0, "be a finite number > 0");

    /// <summary>Refuses a given value that is not finite and above 0 (absent: the default applies).</summary>
    public static Option<double?> Positive(this Option<double?> option) => Number(option, x => x > 0, "be a finite number > 0");

    /// <summary>Refuses a value that is not finite and above <paramref name="min"/>; <paramref name="note"/> says what the bound is.</summary>
    public static Option<double> Above(this Option<double> option, double min, string note) =>
        Number(option, x => x > min, DiffusionCli.Inv($"be a finite number above {min}") + Note(note));

    /// <summary>Refuses a given value that is not finite and above <paramref name="min"/>; <paramref name="note"/> says what the bound is.</summary>
    public static Option<double?> Above(this Option<double?> option, double min, string note) =>
        Number(option, x => x > min, DiffusionCli.Inv($"be a finite number above {min}") + Note(note));

    /// <summary>Refuses a value that is not finite (no other limit: the option may take any number).</summary>
    public static Option<double> Finite(this Option<double> option) => Number(option, _ => true, "be finite");

    /// <summary>Refuses a value that is not finite and at least 0; <paramref name="note"/> is added in brackets.</summary>
    public static Option<double> NonNegative(this Option<double> option, string? note = null) =>
        Number(option, x => x >= 0, "be finite and ≥ 0" + Note(note));

    /// <summary>Refuses a value outside [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<double> Within(this Option<double> option, double min, double max) =>
        Number(option, x => x >= min && x <= max, DiffusionCli.Inv($"lie in [{min}, {max}]"));

    /// <summary>Refuses a value outside [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<float> Within(this Option<float> option, float min, float max) =>
        Number(option, x => x >= min && x <= max, DiffusionCli.Inv($"lie in [{min}, {max}]"));

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

    // A float or double option's rule over its value widened to double; the parser turns an overflowing number (1e999)
    // into ∞, so a value that is not finite is refused first, quoted as typed.
    private static Option<T> Number<T>(Option<T> option, Func<double, bool> ok, string expected) =>
        option.Check((v, typed) => v is null ? null
            : Convert.ToDouble(v, CultureInfo.InvariantCulture) is var x && !double.IsFinite(x) ? $"{option.Name} {typed} is not a finite number"
            : ok(x) ? null : $"{option.Name} {typed} must {expected}");

    // A value not typed (a default) in the form it would be typed in: a float's shortest form, not its double widening.
    private static string Format<T>(T value) => value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString() ?? "";

    private static string Note(string? note) => note == null ? "" : $" ({note})";
}
