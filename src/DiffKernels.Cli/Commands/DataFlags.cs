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

    /// <summary>
    /// The data a new distillation of <paramref name="teacher"/> forward-diffuses: --data, else the teacher's recorded
    /// spec; a spec other than the one the teacher was trained on is refused, since its targets would be off-distribution.
    /// </summary>
    public (IDataSource Source, string Spec) ForTeacher(ParseResult parse, string teacherPath, string? teacherSpec)
    {
        string spec = parse.GetValue(Data) ?? teacherSpec
            ?? throw new ArgumentException($"{teacherPath} does not record its training data; pass --data (e.g. toy:8gaussians or fmnist)");
        if (teacherSpec is { } trained && trained != spec)
            throw new ArgumentException($"--data {spec}: the teacher {teacherPath} was trained on {trained}; distil it on the same data");
        return (DiffusionCli.ParseData(spec, parse.GetValue(Directory)), spec);
    }
}
