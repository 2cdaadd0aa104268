using System.CommandLine;
using DiffKernels.Cli;
using DiffKernels.Cli.Commands;
using DiffKernels.Diffusion.Models;

// Checkpoints record the command that started or resumed their run.
RunProvenance.Command = string.Join(' ', args.Prepend("dk").Select(a => a.Length > 0 && !a.Any(char.IsWhiteSpace) && !a.Contains('"') ? a : $"\"{a.Replace("\"", "\\\"")}\""));

var root = new RootCommand("dk — train diffusion models and distil them into one- and few-step generators");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(FinetuneCommand.Create());
root.Subcommands.Add(TrainGanCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(ShiftCommand.Create());
root.Subcommands.Add(SetSamplerCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(DistillCommand.Create());
root.Subcommands.Add(QuickstartCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(TrainClassifierCommand.Create());
root.Subcommands.Add(CheckOpsCommand.Create());
root.Subcommands.Add(PtxReportCommand.Create());
var parse = root.Parse(args);
// A malformed command line is bad input like any other: one line naming the option, exit code 2 (not help text and 1).
return parse.Errors.Count > 0 ? CliErrors.ParseError(parse, Console.Error) : parse.Invoke();
