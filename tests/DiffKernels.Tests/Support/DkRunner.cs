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

    /// <summary>
    /// Asserts that a dk call was refused as bad input: exit code 2 and one line on stderr (no stack trace) that starts
    /// with <paramref name="start"/> and contains each of <paramref name="contains"/>.
    /// </summary>
    public static void AssertOneLineError((int Code, string Out, string Err) r, string start, params string[] contains)
    {
        Assert.That(r.Code, Is.EqualTo(2), r.Out + r.Err);
        Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace: " + r.Err);
        Assert.That(r.Err, Does.StartWith(start));
        foreach (string part in contains) Assert.That(r.Err, Does.Contain(part));
    }
}
