using System.CommandLine;

namespace DiffKernels.Cli.Commands;

/// <summary>`dk distill METHOD ...`: turns a teacher into a one- or few-step student.</summary>
internal static class DistillCommand
{
    public static Command Create() => new("distill", "Distil a teacher into a fast student")
    {
        DistillDiffInstructCommand.Create(),
        DistillPdCommand.Create(),
        DistillDmd2Command.Create(),
        DistillBootCommand.Create(),
        DistillDdilCommand.Create(),
    };
}
