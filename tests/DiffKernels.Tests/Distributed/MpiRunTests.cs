using System.Diagnostics;
using DiffKernels.IO;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Distributed;

/// <summary>
/// `dk train --distributed mpi` under `mpirun -np 2` on loopback against the same run in one process. Skipped with a
/// message where mpirun is absent (CI installs Open MPI so they run there); every launch has a hard timeout.
/// </summary>
[NonParallelizable]
public class MpiRunTests
{
    private static readonly string DkDll = Path.Combine(AppContext.BaseDirectory, "dk.dll");

    private static string Mpirun()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (found == null) Assert.Ignore("mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the MPI tests");
        return found!;
    }

    // Each app context is "-np 1 dotnet dk.dll ARGS" (MPMD), so ranks may be given different arguments.
    private static (int Code, string Out, string Err) Launch(params string[][] ranks)
    {
        var psi = new ProcessStartInfo(Mpirun()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo" })
            psi.ArgumentList.Add(a);
        for (int r = 0; r < ranks.Length; r++)
        {
            if (r > 0) psi.ArgumentList.Add(":");
            foreach (var a in (string[])["-np", "1", "dotnet", DkDll, .. ranks[r]]) psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun did not finish within 60 s (a hang): {stderr.Result}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string[] Train(string outDir, int steps, int batch = 64, params string[] more) =>
        ["train", "--data", "toy:8gaussians", "--steps", $"{steps}", "--batch", $"{batch}", "--preview", "0", "--log-every", "50", "--out", outDir, .. more];

    private static string[] Distributed(string outDir, int steps) => [.. Train(outDir, steps), "--distributed", "mpi"];

    private static float[] Weights(string dir)
    {
        using var scope = Tensor.Scope();
        var file = SafeTensors.Load(Path.Combine(dir, "model.safetensors"), Device.Cpu);
        return file.Tensors.Where(kv => kv.Key.StartsWith("train.weights.", StringComparison.Ordinal)).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.ToArray()).ToArray();
    }

    private static double LastLoss(string dir) =>
        double.Parse(File.ReadLines(Path.Combine(dir, "log.jsonl")).Last(l => l.Contains("\"loss\"")).Split("\"loss\":")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);

    private static float MaxDifference(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length).And.Length.GreaterThan(0));
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
    }

    [Test]
    public void TwoRanksAtHalfTheBatchStepLikeOneProcessAtTheWholeBatch()
    {
        using var dir = new TempDir();
        var two = Launch(Distributed(dir.File("two"), 3), Distributed(dir.File("two"), 3));
        Assert.That(two.Code, Is.EqualTo(0), two.Err);
        Assert.That(two.Out, Does.Contain("done: 3 steps"));
        // Rank 0 alone wrote: one checkpoint, one log, the folder's owner record.
        Assert.That(Directory.GetFiles(dir.File("two")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "model.safetensors", "log.jsonl", ".dk-run.json" }));
        var one = Dk(Train(dir.File("one"), 3));
        Assert.That(one.Code, Is.EqualTo(0), one.Err);
        // The same sums in another order: float rounding only (Adam's first steps are lr-sized, so 1e-5 is tight).
        Assert.That(MaxDifference(Weights(dir.File("one")), Weights(dir.File("two"))), Is.LessThan(1e-5f));
        Assert.That(LastLoss(dir.File("two")), Is.EqualTo(LastLoss(dir.File("one"))).Within(1e-5));
    }

    [Test]
    public void DiffInstructOnTwoRanksStepsLikeOneProcess()
    {
        using var dir = new TempDir();
        string teacher = Path.Combine(RepoFiles.ModelsDir(), "toy-25gaussians-nosadm.safetensors");
        string[] Args(string name) => ["distill", "diff-instruct", "--teacher", teacher, "--steps", "5", "--batch", "64", "--preview", "0", "--log-every", "5", "--out", dir.File(name)];
        var two = Launch([.. Args("two"), "--distributed", "mpi"], [.. Args("two"), "--distributed", "mpi"]);
        Assert.That(two.Code, Is.EqualTo(0), two.Err);
        var one = Dk(Args("one"));
        Assert.That(one.Code, Is.EqualTo(0), one.Err);
        string Line(string name) => File.ReadLines(Path.Combine(dir.File(name), "log.jsonl")).Last(l => l.Contains("\"aux_loss\""));
        double Value(string name, string key) => double.Parse(Line(name).Split($"\"{key}\":")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(Value("two", "aux_loss"), Is.EqualTo(Value("one", "aux_loss")).Within(1e-5).Percent);
        Assert.That(Value("two", "score_gap"), Is.EqualTo(Value("one", "score_gap")).Within(1e-3).Percent);
    }

    [Test]
    public void SadmOnTwoRanksGathersTheBatchStructureAndStepsLikeOneProcess()
    {
        // SADM's structure term couples the batch's rows: each rank gathers the others' features over MPI (every other
        // kind is checked on two ranks in process by DataParallelTests).
        using var dir = new TempDir();
        string[] Args(string name) => [.. Train(dir.File(name), 3, 64, "--sadm", "--sadm-warmup", "0")];
        var two = Launch([.. Args("two"), "--distributed", "mpi"], [.. Args("two"), "--distributed", "mpi"]);
        Assert.That(two.Code, Is.EqualTo(0), two.Err);
        var one = Dk(Args("one"));
        Assert.That(one.Code, Is.EqualTo(0), one.Err);
        Assert.That(MaxDifference(Weights(dir.File("one")), Weights(dir.File("two"))), Is.LessThan(1e-5f));
        string Line(string name) => File.ReadLines(Path.Combine(dir.File(name), "log.jsonl")).Last(l => l.Contains("\"structure\""));
        double Value(string name, string key) => double.Parse(Line(name).Split($"\"{key}\":")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        foreach (var key in new[] { "structure", "denoiser_loss", "encoder_loss" })
            Assert.That(Value("two", key), Is.EqualTo(Value("one", key)).Within(1e-3).Percent, key);
        Assert.That(Line("two"), Does.Contain("\"allreduce_ms\":"));
    }

    [Test]
    public void ARunOfTwoRanksResumesInOneProcessAsIfItHadRunThere()
    {
        using var dir = new TempDir();
        var two = Launch(Distributed(dir.File("split"), 3), Distributed(dir.File("split"), 3));
        Assert.That(two.Code, Is.EqualTo(0), two.Err);
        var resumed = Dk(["train", "--out", dir.File("split"), "--resume", "--steps", "6"]);
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        var one = Dk(Train(dir.File("one"), 6));
        Assert.That(one.Code, Is.EqualTo(0), one.Err);
        Assert.That(MaxDifference(Weights(dir.File("one")), Weights(dir.File("split"))), Is.LessThan(1e-5f));
    }

    [Test]
    public void AToyRunOnTwoRanksReachesTheLossOfOneProcess()
    {
        using var dir = new TempDir();
        var two = Launch(Distributed(dir.File("two"), 300), Distributed(dir.File("two"), 300));
        Assert.That(two.Code, Is.EqualTo(0), two.Err);
        // The run ends with the replica check: a rank whose weights left rank 0's would have failed it.
        Assert.That(two.Err, Does.Not.Contain("differ from rank 0"));
        var one = Dk(Train(dir.File("one"), 300));
        Assert.That(one.Code, Is.EqualTo(0), one.Err);
        double l1 = LastLoss(dir.File("one")), l2 = LastLoss(dir.File("two"));
        Assert.That(l1, Is.LessThan(LastLossAt(dir.File("one"), 50)), "training lowered the loss");
        Assert.That(l2, Is.EqualTo(l1).Within(1).Percent);
    }

    private static double LastLossAt(string dir, int step) =>
        double.Parse(File.ReadLines(Path.Combine(dir, "log.jsonl")).First(l => l.Contains($"\"step\":{step},")).Split("\"loss\":")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public void ARankThatFailsStopsTheOthersWithAnErrorInsteadOfAHang()
    {
        using var dir = new TempDir();
        // Rank 1's batch does not split over two ranks: it fails after joining, while rank 0 waits in the first broadcast.
        var r = Launch(Distributed(dir.File("run"), 50), [.. Train(dir.File("run"), 50, batch: 63), "--distributed", "mpi"]);
        Assert.That(r.Code, Is.Not.EqualTo(0));
        Assert.That(r.Err, Does.Contain("does not split over 2 ranks").And.Contain("dk train: rank 1 of 2 failed (exit 2); stopping every rank"));
    }
}
