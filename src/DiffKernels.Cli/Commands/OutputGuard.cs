using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// Where a verb writes, checked before it does any work: a file output gets its folder created and its writability
/// probed, and an existing file is replaced only with --force; an --out folder of a run records the verb and run that
/// own it (<see cref="MarkerFile"/>), so another verb refuses it and the same verb starts over in it only with --force,
/// which first removes the files the earlier run made there (the kinds of file a run of the verb writes; nothing else).
/// Every refusal is an <see cref="ArgumentException"/> naming the flag and the path (one line, exit 2 through
/// <see cref="DiffusionCli.Run"/>).
/// </summary>
internal static class OutputGuard
{
    /// <summary>The file in an --out folder that names the verb and run owning it.</summary>
    public const string MarkerFile = ".dk-run.json";

    /// <summary>A new --force option; <paramref name="what"/> says what it lets the verb replace.</summary>
    public static Option<bool> ForceOption(string what) => new("--force") { Description = $"Replace {what} (without it, existing files are never written over)" };

    /// <summary>
    /// Checks the file output <paramref name="path"/> of <paramref name="flag"/> (null: none asked for): not a folder, not
    /// an existing file unless <paramref name="force"/>, its folder created and writable. Returns the path.
    /// </summary>
    public static string? File(string? path, string flag, bool force)
    {
        if (path == null) return null;
        if (path.Length == 0) throw new ArgumentException($"{flag}: expected a file path, got an empty one");
        if (Directory.Exists(path)) throw new ArgumentException($"{flag} {path} is a folder; expected a file path");
        if (System.IO.File.Exists(path) && !force)
            throw new ArgumentException($"{flag} {path} already exists; pass --force to replace it or choose another path");
        Writable(Path.GetDirectoryName(Path.GetFullPath(path))!, flag, path);
        return path;
    }

    /// <summary>
    /// Checks the --out folder <paramref name="dir"/> of a run of `dk <paramref name="verb"/>`: one owned by another verb is
    /// refused; a new run (<paramref name="resume"/> false) refuses a folder holding files unless <paramref name="force"/>;
    /// a resume keeps the folder's owner; <paramref name="resumable"/> verbs name --resume in the refusal of their own
    /// earlier run. <paramref name="outputs"/>, when given, are the names of the files a run of the verb writes there (a *
    /// stands for digits, as in samples-*.png): a new run with --force over an earlier run of the verb removes those (and
    /// nothing else) when it is claimed, so no file of the earlier run is left beside the new run's. The folder is created
    /// and probed for writing; call <see cref="RunFolder.Claim"/> once the run is built and <see cref="RunFolder.Abandon"/>
    /// when building it failed (the earlier run's files are then still there).
    /// </summary>
    public static RunFolder Folder(string dir, string verb, bool resume, bool force, bool resumable = false, string flag = "--out", IReadOnlyList<string>? outputs = null)
    {
        if (dir.Length == 0) throw new ArgumentException($"{flag}: expected a folder, got an empty path");
        if (System.IO.File.Exists(dir)) throw new ArgumentException($"{flag} {dir} is a file; expected a folder");
        var owner = Owner(dir);
        if (owner is { } o && o.Verb != verb)
            throw new ArgumentException($"{flag} {dir} belongs to a `dk {o.Verb}` run (run {o.Run}, started {o.Started}); dk {verb} will not write into it: choose another {flag}");
        bool existed = Directory.Exists(dir);
        if (resume) return new RunFolder(dir, verb, existed, owner, null) { Resumed = true };
        var entries = existed ? Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Where(e => e != MarkerFile).Order(StringComparer.Ordinal).ToList() : [];
        if (entries.Count > 0 && !force)
        {
            string what = owner is { } mine ? $"holds an earlier `dk {verb}` run (run {mine.Run}, started {mine.Started})" : $"is not empty ({Listing(entries!)})";
            string continueIt = owner != null && resumable ? "--resume to continue it, " : "";
            string replaced = owner != null && outputs != null ? "the earlier run's files are removed, other files stay" : "files of the same names are replaced";
            throw new ArgumentException($"{flag} {dir} {what}; pass {continueIt}--force to start over in it ({replaced}) or choose another {flag}");
        }
        Writable(dir, flag, dir);
        return new RunFolder(dir, verb, existed, owner, owner != null ? outputs : null);
    }

    /// <summary>True when <paramref name="name"/> is <paramref name="pattern"/>, whose * (if any) stands for one or more digits.</summary>
    public static bool Matches(string name, string pattern)
    {
        int star = pattern.IndexOf('*');
        if (star < 0) return name == pattern;
        string head = pattern[..star], tail = pattern[(star + 1)..];
        return name.Length > head.Length + tail.Length && name.StartsWith(head, StringComparison.Ordinal) && name.EndsWith(tail, StringComparison.Ordinal)
            && name[head.Length..^tail.Length].All(char.IsAsciiDigit);
    }

    /// <summary>
    /// True when <paramref name="name"/> is what an interrupted atomic write of a file named by <paramref name="pattern"/>
    /// leaves behind: ".NAME.&lt;32 hex digits&gt;.tmp" (a checkpoint, SafeTensors.Save) or "NAME.tmp" (the log's truncation).
    /// </summary>
    public static bool IsLeftoverOf(string name, string pattern)
    {
        if (!name.EndsWith(".tmp", StringComparison.Ordinal)) return false;
        string stem = name[..^".tmp".Length];
        if (Matches(stem, pattern)) return true;
        int dot = stem.LastIndexOf('.');
        return stem.StartsWith('.') && dot > 0 && stem.Length - dot - 1 == 32 && stem[(dot + 1)..].All(char.IsAsciiHexDigit)
            && Matches(stem[1..dot], pattern);
    }

    /// <summary>Refuses two outputs of one call that name the same file (the second would write over the first).</summary>
    public static void Distinct(params (string? Path, string Flag)[] outputs)
    {
        var given = outputs.Where(o => o.Path != null).ToList();
        for (int i = 0; i < given.Count; i++)
            for (int j = i + 1; j < given.Count; j++)
                if (Path.GetFullPath(given[i].Path!) == Path.GetFullPath(given[j].Path!))
                    throw new ArgumentException($"{given[i].Flag} and {given[j].Flag} both name {given[i].Path}; give each its own file");
    }

    /// <summary>The verb and run recorded in <paramref name="dir"/>, or null when it records none.</summary>
    public static (string Verb, string Run, string Started)? Owner(string dir)
    {
        string marker = Path.Combine(dir, MarkerFile);
        if (!System.IO.File.Exists(marker)) return null;
        try
        {
            var json = JsonNode.Parse(System.IO.File.ReadAllText(marker)) ?? throw new InvalidDataException();
            return ((string?)json["verb"] ?? throw new InvalidDataException(), (string?)json["run"] ?? "?", (string?)json["started"] ?? "?");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException)
        {
            throw new InvalidDataException($"{marker}: not a run marker (expected JSON naming the verb that owns the folder); remove it or choose another folder");
        }
    }

    private static string Listing(List<string?> entries) =>
        string.Join(", ", entries.Take(3)) + (entries.Count > 3 ? $" and {entries.Count - 3} more" : "");

    // Creates the folder and writes a probe file there, so an unwritable destination fails now and not after the work.
    private static void Writable(string dir, string flag, string path)
    {
        try
        {
            Directory.CreateDirectory(dir);
            string probe = Path.Combine(dir, $".dk-probe-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ArgumentException($"{flag} {path}: cannot write there ({e.Message.TrimEnd('.')})");
        }
    }

    /// <summary>An --out folder checked by <see cref="Folder"/>, to be claimed by its run or given up.</summary>
    internal sealed class RunFolder(string dir, string verb, bool existed, (string Verb, string Run, string Started)? owner, IReadOnlyList<string>? earlierOutputs)
    {
        /// <summary>
        /// Records the run as the folder's owner (a resume keeps a recorded owner; an unmarked folder gets one); a new run
        /// started over an earlier run of its verb first removes that run's files.
        /// </summary>
        public void Claim()
        {
            if (Resumed && owner != null) return;
            Directory.CreateDirectory(dir);
            if (earlierOutputs != null)
                foreach (string file in Directory.EnumerateFiles(dir).Where(f => earlierOutputs.Any(p => Matches(Path.GetFileName(f), p) || IsLeftoverOf(Path.GetFileName(f), p))).ToList())
                    System.IO.File.Delete(file);
            var json = new JsonObject
            {
                ["verb"] = verb,
                ["run"] = Guid.NewGuid().ToString("N")[..12],
                ["started"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["command"] = Diffusion.Models.RunProvenance.Command,
            };
            System.IO.File.WriteAllText(Path.Combine(dir, MarkerFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }

        /// <summary>True when this folder is claimed by a resume (its recorded owner stays).</summary>
        public bool Resumed { get; init; }

        /// <summary>Removes the folder when this check created it and nothing was written there.</summary>
        public void Abandon()
        {
            if (!existed && Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
        }
    }
}
