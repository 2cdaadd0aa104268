using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;

namespace DiffKernels.Cli.Commands;

/// <summary>The --data and --data-dir flags of a run command that trains on data; a resume defaults to the data its checkpoint records.</summary>
internal sealed class DataFlags(string description)
{
    /// <summary>--data.</summary>
    public Option<string> Data { get; } = new("--data") { Description = $"{description} (on --resume: the checkpoint's)" };

    /// <summary>--data-dir.</summary>
    public Option<string> Directory { get; } = DiffusionCli.FashionDirOption();

    /// <summary>The data of a new run (<paramref name="example"/> shows a spec when --data is missing).</summary>
    public IDataSource ForNewRun(ParseResult parse, string example) =>
        DiffusionCli.ParseData(parse.GetValue(Data) ?? throw new ArgumentException($"--data is required (e.g. --data {example})"), parse.GetValue(Directory));

    /// <summary>The data a resume of <paramref name="checkpoint"/> continues on: --data, else the recorded spec.</summary>
    public IDataSource ForResume(ParseResult parse, string checkpoint)
    {
        string spec = parse.GetValue(Data) ?? SafeTensors.ReadHeader(checkpoint).Metadata.GetValueOrDefault(CheckpointKeys.Data)
            ?? throw new ArgumentException($"{checkpoint} does not record its data; pass --data");
        return DiffusionCli.ParseData(spec, parse.GetValue(Directory));
    }
}
