using System.CommandLine;
using DiffKernels.Gpu;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The --device option every verb that runs a model shares, and its one resolution: a name to an opened
/// <see cref="DeviceChoice"/> the verb disposes when it ends, or a one-line user error (exit code 2 through
/// <see cref="DiffusionCli.Run"/>) naming the flag.
/// </summary>
internal static class DeviceOption
{
    /// <summary>A new --device option (default: cpu).</summary>
    public static Option<string> Create() => new("--device")
    {
        Description = $"Where the model runs: {string.Join(", ", DeviceChoice.Names)} (auto: CUDA when present, else cpu)",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>Opens the device <paramref name="option"/> names in <paramref name="parseResult"/>.</summary>
    public static DeviceChoice Open(ParseResult parseResult, Option<string> option) => Open(parseResult.GetValue(option)!, option.Name);

    /// <summary>Opens the device called <paramref name="name"/>; errors name <paramref name="flag"/>.</summary>
    public static DeviceChoice Open(string name, string flag = "--device")
    {
        if (!DeviceChoice.Names.Contains(name))
            throw new ArgumentException($"{flag} {name}: expected one of {string.Join(", ", DeviceChoice.Names)}");
        try
        {
            return DeviceChoice.Open(name);
        }
        catch (GpuUnavailableException e)
        {
            throw new ArgumentException($"{flag} {name}: {e.Problem} found (dk info lists the backends)");
        }
    }
}
