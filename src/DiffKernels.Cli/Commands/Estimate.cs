using System.Diagnostics;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The one line long work prints early on: what it will do and about how long that should take, measured on its first
/// part or iterations (done anyway, so nothing extra runs and no result changes) and extrapolated. Work that is over
/// before anything is left to estimate prints none.
/// </summary>
internal sealed class Estimate
{
    /// <summary>A run's measurement ends after this long past its first iteration, or after a fiftieth of the run.</summary>
    public static readonly TimeSpan RunWarmUp = TimeSpan.FromSeconds(2);

    private readonly IAnsiConsole _console;
    private readonly string _what;
    private readonly string _unit;
    private readonly string? _then;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _first;
    private bool _printed;

    private Estimate(IAnsiConsole console, string what, string unit, string? then)
    {
        _console = console;
        _what = what;
        _unit = unit;
        _then = then;
    }

    /// <summary>
    /// An estimate of work done in parts, timed from now: "about T {what} N {unit}s (measured … on the first M)", then
    /// <paramref name="then"/> when given (what follows that the estimate leaves out).
    /// </summary>
    public static Estimate OfParts(IAnsiConsole console, string what, string unit, string? then = null) => new(console, what, unit, then);

    /// <summary>Hears that <paramref name="done"/> of <paramref name="total"/> units are done; the first call prints the line.</summary>
    public void Part(long done, long total)
    {
        if (_printed) return;
        _printed = true;
        if (done <= 0 || done >= total) return;
        double per = _clock.Elapsed.TotalSeconds / done;
        Print(DiffusionCli.Inv($"about {Duration(per * total)} {_what} {total:N0} {_unit}s (measured {PerUnit(per)}/{_unit} on the first {done:N0})"));
    }

    /// <summary>An estimate of a run's iterations <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static RunEstimate OfRun(IAnsiConsole console, long from, long to) => new(new Estimate(console, "", "iteration", null), from, to);

    /// <summary>
    /// A run's estimate: the first iteration of the session (which warms up) is timed apart, the ones after it until
    /// <see cref="RunWarmUp"/> has passed or a fiftieth of the run is done give the rate for the rest.
    /// </summary>
    internal sealed class RunEstimate(Estimate line, long from, long to)
    {
        /// <summary>Hears that <paramref name="done"/> iterations of this session ended <paramref name="elapsed"/> after it started.</summary>
        public void Iteration(long done, TimeSpan elapsed)
        {
            long remaining = to - from;
            if (line._printed) return;
            if (done == 1) line._first = elapsed;
            if (done >= remaining)
            {
                line._printed = true;
                return;
            }
            if (done < 2 || (done - 1 < Math.Max(1, remaining / 50) && elapsed - line._first < RunWarmUp)) return;
            line._printed = true;
            double per = (elapsed - line._first).TotalSeconds / (done - 1);
            double total = line._first.TotalSeconds + per * (remaining - 1);
            string which = from == 0 ? $"{remaining:N0} iterations" : $"the {remaining:N0} iterations from step {from:N0} to {to:N0}";
            line.Print(DiffusionCli.Inv($"about {Duration(total)} for {which} (measured {PerUnit(per)}/iteration on iterations 2–{done:N0})"));
        }
    }

    private void Print(string text) => _console.MarkupLine(Markup.Escape(_then == null ? text : $"{text}; then {_then}"));

    /// <summary>A duration in the unit that reads best: seconds, minutes, hours or days.</summary>
    public static string Duration(double seconds) =>
        seconds < 10 ? DiffusionCli.Inv($"{seconds:0.0} s")
        : seconds < 90 ? DiffusionCli.Inv($"{seconds:0} s")
        : seconds < 90 * 60 ? DiffusionCli.Inv($"{seconds / 60:0} min")
        : seconds < 48 * 3600 ? DiffusionCli.Inv($"{seconds / 3600:0.0} h")
        : DiffusionCli.Inv($"{seconds / 86400:0.0} days");

    // Time per unit with three significant figures: milliseconds below a second.
    private static string PerUnit(double seconds) =>
        seconds >= 1 ? DiffusionCli.Inv($"{seconds:G3} s") : DiffusionCli.Inv($"{seconds * 1000:G3} ms");
}
