using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// What train, sample, eval and quickstart share: exit codes, the one-line error policy, data specs,
/// Ctrl-C handling and the console they draw on.
/// </summary>
internal static class DiffusionCli
{
    /// <summary>Bad arguments, or a missing or malformed file.</summary>
    public const int UserError = CliErrors.UserError;

    /// <summary>Training stopped after too many non-finite steps.</summary>
    public const int Diverged = 3;

    /// <summary>Interrupted by Ctrl-C after saving a checkpoint (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Runs <paramref name="body"/>, turning expected failures into one line "dk {command}: message" and their exit code.</summary>
    public static int Run(string command, TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"dk {command}: {OneLine(e.Message)}");
            return Diverged;
        }
        catch (Exception e) when (e is ArgumentException or InvalidInputException or IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            error.WriteLine($"dk {command}: {OneLine(WithoutParameter(e))}");
            return UserError;
        }
    }

    // A library argument's name (" (Parameter 'n')") means nothing on the command line, whose flags the message names.
    private static string WithoutParameter(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message;

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    /// <summary>What a --data option accepts.</summary>
    public static string DataSpecs => $"toy:NAME (NAME one of {string.Join(", ", ToyDistribution.Names)}), fmnist, fmnist:N (its first N images) or folder:DIR; an image spec may end in @classes=A-B,limit=N (a subset)";

    /// <summary>
    /// The data source a spec names (see <see cref="DataSpecs"/>); Fashion-MNIST is read from
    /// <paramref name="fashionDirectory"/> (default: its install location).
    /// </summary>
    public static IDataSource ParseData(string spec, string? fashionDirectory = null)
    {
        if (ImageSubset.TrySplit(spec, out var whole, out var selection)) return ImageSubset.Select(ParseData(whole, fashionDirectory), selection);
        if (ToyDataSource.IsToySpec(spec)) return ToyDataSource.FromSpec(spec);
        return ImageDataSource.FromSpec(spec, fashionDirectory)
            ?? throw new ArgumentException($"unknown data '{spec}'; expected {DataSpecs}");
    }

    /// <summary>
    /// The image metrics of <paramref name="classifier"/> against the test set in <paramref name="fashionDirectory"/>
    /// (its images of <paramref name="classes"/> only, when given).
    /// Test features are cached on disk only for the installed data set: the cache is keyed by the classifier
    /// alone, and another directory may hold other images under the same file names.
    /// </summary>
    public static FrechetEvaluator Evaluator(Classifier classifier, string fashionDirectory, (int First, int Last)? classes = null) =>
        new(classifier, fashionDirectory,
            Path.TrimEndingDirectorySeparator(Path.GetFullPath(fashionDirectory)) == FashionMnist.DefaultDirectory ? FrechetEvaluator.DefaultCacheDirectory : null,
            classes);

    /// <summary>The --data-dir option: where Fashion-MNIST's IDX files are.</summary>
    public static Option<string> FashionDirOption() => new("--data-dir")
    {
        Description = "Directory of the Fashion-MNIST IDX files",
        DefaultValueFactory = _ => FashionMnist.DefaultDirectory,
    };

    /// <summary>A Spectre console over <paramref name="output"/>, interactive only when it is the real terminal.</summary>
    public static IAnsiConsole Console(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
        });
        // Files and pipes have no width; wrapping them at 80 columns would split paths.
        if (!terminal) console.Profile.Width = 160;
        return console;
    }

    /// <summary>
    /// Cancels the returned source on the first Ctrl-C or SIGTERM (so work can stop cleanly, e.g. save a
    /// checkpoint); a second one ends the process as usual. Dispose it to unhook.
    /// </summary>
    public static CtrlC HookCtrlC() => new();

    /// <summary>The Ctrl-C hook of <see cref="HookCtrlC"/>.</summary>
    public sealed class CtrlC : IDisposable
    {
        private readonly CancellationTokenSource _source = new();

        private readonly PosixSignalRegistration _terminate;

        public CtrlC()
        {
            System.Console.CancelKeyPress += OnCancel;
            _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
        }

        public CancellationToken Token => _source.Token;

        private void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            if (_source.IsCancellationRequested) return;
            e.Cancel = true;
            _source.Cancel();
        }

        private void OnTerminate(PosixSignalContext context)
        {
            if (_source.IsCancellationRequested) return;
            context.Cancel = true;
            _source.Cancel();
        }

        public void Dispose()
        {
            _terminate.Dispose();
            System.Console.CancelKeyPress -= OnCancel;
            _source.Dispose();
        }
    }

    /// <summary>Formats with the invariant culture.</summary>
    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
