using System.Reflection;

namespace DiffKernels.Tests.Support;

/// <summary>Runs the `dk` entry point in-process, capturing stdout and stderr.</summary>
public static class DkRunner
{
    /// <summary>Invokes dk with <paramref name="args"/>; returns the exit code and both streams.</summary>
    public static (int Code, string Out, string Err) Dk(params string[] args)
    {
        var main = Assembly.Load("dk").EntryPoint!;
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = (int)main.Invoke(null, [args])!;
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
