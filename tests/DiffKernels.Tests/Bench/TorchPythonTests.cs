using DiffKernels.Bench.Baselines;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Bench;

/// <summary>Which Python runs the PyTorch scripts, and the one-line refusal when none can import torch.</summary>
public class TorchPythonTests
{
    private static Func<string, string?> Env(string? python) => name => name == TorchBaseline.PythonVariable ? python : null;

    [Test]
    public void AnInterpreterNamedOnTheCommandLineWinsThenTheVariableThenTheSearch()
    {
        Assert.That(TorchBaseline.Candidates("/opt/py/bin/python", Env("/elsewhere/python")), Is.EqualTo(new[] { "/opt/py/bin/python" }));
        Assert.That(TorchBaseline.Candidates(null, Env("/elsewhere/python")), Is.EqualTo(new[] { "/elsewhere/python" }));
        Assert.That(TorchBaseline.Candidates(null, Env(null)), Is.EqualTo(new[] { "python3", "/usr/bin/python3" }),
            "PATH's python3 first (a virtual environment's), then the system's, where Debian's python3-torch lives");
        Assert.That(TorchBaseline.Candidates(null, Env("")), Is.EqualTo(TorchBaseline.Interpreters), "an empty variable names nothing");
    }

    [Test]
    [Platform(Exclude = "Win")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WithoutTorchTheRefusalIsOneLineNamingEachInterpreterAndWhy()
    {
        using var dir = new TempDir();
        string python = FakePythonWithoutTorch(dir), missing = dir.File("no-such-python");
        var e = Assert.Throws<ArgumentException>(() => TorchBaseline.RequirePython(null, Env(python)))!;
        Assert.That(e.Message, Does.Not.Contain('\n'));
        Assert.That(e.Message, Does.StartWith("bench: no Python that can import torch")
            .And.Contain($"{python}: ModuleNotFoundError: No module named 'torch'")
            .And.Contain(TorchBaseline.PythonVariable).And.Contain("--python"));
        e = Assert.Throws<ArgumentException>(() => TorchBaseline.RequirePython(missing, Env(python)))!;
        Assert.That(e.Message, Does.Contain($"{missing}: not found").And.Not.Contain(python + ":"), "--python alone is tried");

        AssertOneLineError(Dk("bench", "adam", "--quick", "--vs-torch", "--python", python),
            "dk bench: no Python that can import torch", python, "No module named 'torch'");
    }

    [Test]
    public void RoundsApplyOnlyAgainstPyTorch()
    {
        AssertOneLineError(Dk("bench", "adam", "--quick", "--rounds", "2"), "dk bench: --rounds applies to --vs-torch");
        var (code, _, stderr) = Dk("bench", "adam", "--quick", "--vs-torch", "--rounds", "0");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--rounds 0 must be ≥ 1"));
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string FakePythonWithoutTorch(TempDir dir)
    {
        string python = dir.File("python");
        File.WriteAllText(python, """
            #!/bin/sh
            echo "Traceback (most recent call last):" >&2
            echo "ModuleNotFoundError: No module named 'torch'" >&2
            exit 1
            """.Replace("\r", ""));
        File.SetUnixFileMode(python, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return python;
    }
}
