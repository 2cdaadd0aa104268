using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace DiffKernels.Diffusion.Models;

/// <summary>One session of a run: the command that started or resumed it and the code commit it ran.</summary>
/// <param name="Command">The command line (null when the run was driven from code, not the CLI).</param>
/// <param name="Commit">The commit the library was built from, or "unknown".</param>
public sealed record RunSession(string? Command, string Commit);

/// <summary>
/// Where a run came from, written into every training checkpoint: its sessions (the command that started it and each
/// that resumed it, with the code commit of each) and, for a warm start, the release checkpoint it started from
/// (path and SHA-256). The run framework writes <see cref="Stamp"/> into every checkpoint and calls <see cref="Continue"/> when resuming; the
/// CLI sets <see cref="Command"/> once at start-up.
/// </summary>
public static class RunProvenance
{
    /// <summary>Metadata key of the sessions (JSON array of {command, commit}); "sessions" once exported.</summary>
    public const string SessionsKey = Training.CheckpointKeys.Sessions;

    /// <summary>Metadata key of a warm start's source path; "init_from" once exported.</summary>
    public const string InitFromKey = Training.CheckpointKeys.InitFrom;

    /// <summary>Metadata key of a warm start's source SHA-256; "init_from_sha256" once exported.</summary>
    public const string InitFromHashKey = Training.CheckpointKeys.InitFromHash;


    // Per run object, so several runs in one process (tests, quickstart) keep their own history.
    private static readonly ConditionalWeakTable<object, History> Runs = new();

    private sealed class History
    {
        public List<RunSession> Sessions { get; } = [];

        public (string Path, string Sha256)? InitFrom { get; set; }
    }

    /// <summary>The command line of this process (e.g. "dk train --data toy:moons"), set by the CLI; null from code.</summary>
    public static string? Command { get; set; }

    /// <summary>
    /// The commit this library was built from: the "+sha" the SDK's source link appends to the informational version
    /// when building from a git checkout; "unknown" otherwise.
    /// </summary>
    public static string Commit { get; } =
        typeof(RunProvenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } v
        && v.IndexOf('+') is var plus and >= 0 && plus + 1 < v.Length ? v[(plus + 1)..] : "unknown";

    /// <summary>This session as the current process runs it.</summary>
    public static RunSession Current => new(Command, Commit);

    /// <summary>Marks <paramref name="run"/> as resumed from a checkpoint with <paramref name="metadata"/>: its earlier sessions and warm-start source carry over.</summary>
    public static void Continue(object run, IReadOnlyDictionary<string, string> metadata)
    {
        var history = Runs.GetValue(run, _ => new History());
        history.Sessions.Clear();
        history.Sessions.AddRange(Sessions(metadata));
        history.Sessions.Add(Current);
        if (metadata.TryGetValue(InitFromKey, out var path) && metadata.TryGetValue(InitFromHashKey, out var hash)) history.InitFrom = (path, hash);
    }

    /// <summary>Marks <paramref name="run"/> as a warm start from the release checkpoint at <paramref name="path"/> with SHA-256 <paramref name="sha256"/>.</summary>
    public static void WarmStart(object run, string path, string sha256) => Runs.GetValue(run, _ => new History()).InitFrom = (path, sha256);

    /// <summary>The checkpoint metadata of <paramref name="run"/>'s sessions (this one alone for a fresh run) and warm-start source.</summary>
    public static IReadOnlyDictionary<string, string> Stamp(object run)
    {
        var history = Runs.GetValue(run, _ => new History());
        if (history.Sessions.Count == 0) history.Sessions.Add(Current);
        var metadata = new Dictionary<string, string> { [SessionsKey] = JsonSerializer.Serialize(history.Sessions, DiffusionJsonContext.Default.ListRunSession) };
        if (history.InitFrom is var (path, hash))
        {
            metadata[InitFromKey] = path;
            metadata[InitFromHashKey] = hash;
        }
        return metadata;
    }

    /// <summary>The sessions a checkpoint records (release "sessions" or training "train.sessions"); empty when none.</summary>
    public static IReadOnlyList<RunSession> Sessions(IReadOnlyDictionary<string, string> metadata) =>
        CheckpointKind.Recorded(metadata, "sessions") is { } json ? JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.ListRunSession) ?? [] : [];

    /// <summary>One session as JSON, as a release checkpoint records the export that made it.</summary>
    public static string ToJson(RunSession session) => JsonSerializer.Serialize(session, DiffusionJsonContext.Default.RunSession);
}
