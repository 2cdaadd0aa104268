using System.Security.Cryptography;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>
/// Every verb over bad output paths, other verbs' --out folders, wrong model files and out-of-range options: each is
/// refused before any work with exit 2 and one line that starts "dk VERB: " and names the option or file, and no file
/// that was there before changes (every file under the test folder and the committed models read is hashed before and
/// after).
/// </summary>
[NonParallelizable]
public class SafetyWalkTests
{
    private TempDir _dir = null!;
    private string _benchDir = null!, _trainRun = null!, _distillRun = null!, _unmarked = null!, _text = null!, _existing = null!, _classifier = null!, _data = null!;

    // The file in a run's --out folder that records the run owning it.
    private const string Marker = ".dk-run.json";

    private static string Model(string file) => Path.Combine(RepoFiles.ModelsDir(), file);

    private static readonly string Teacher = Model("toy-8gaussians-teacher.safetensors");
    private static readonly string Student = Model("toy-8gaussians-diff-instruct.safetensors");
    private static readonly string FashionTeacher = Model("fmnist-teacher-xs.safetensors");
    private static readonly string FourStepStudent = Model("toy-8gaussians-pd-k4.safetensors");

    /// <summary>A refused call: its arguments, how its one line starts (after "dk "; empty: a line of dk itself) and what else it must name.</summary>
    private sealed record Case(Func<SafetyWalkTests, string[]> Args, string Start, params string[] Names);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Outputs: never written over without --force, checked before any work.
        ["sample --npy over an existing file"] = new(t => ["sample", "--model", Teacher, "--npy", t._existing], "sample: --npy ", "already exists", "--force"),
        ["sample --png over an existing file"] = new(t => ["sample", "--model", Teacher, "--png", t._existing], "sample: --png ", "already exists"),
        ["eval --json over an existing file"] = new(t => ["eval", "--model", Teacher, "--n", "10", "--json", t._existing], "eval: --json ", "already exists"),
        ["shift --json over an existing file"] = new(t => ["shift", "--model", FourStepStudent, "--n", "10", "--json", t._existing], "shift: --json ", "already exists"),
        ["shift --png in an unwritable place"] = new(_ => ["shift", "--model", FourStepStudent, "--png", "/proc/dk-none/a.png"], "shift: --png /proc/dk-none/a.png", "cannot write"),
        ["eval --png over an existing file"] = new(t => ["eval", "--model", Teacher, "--n", "10", "--png", t._existing], "eval: --png ", "already exists"),
        ["train-classifier --out over an existing file"] = new(t => ["train-classifier", "--data-dir", t._data, "--out", t._classifier], "train-classifier: --out ", "already exists"),
        ["ptx-report --out over an existing file"] = new(t => ["ptx-report", "--out", t._existing], "ptx-report: --out ", "already exists"),
        ["export --out over an existing file"] = new(t => ["export", "--model", Path.Combine(t._trainRun, "model.safetensors"), "--out", t._existing], "export: --out ", "--force"),
        ["sample --png in an unwritable place"] = new(_ => ["sample", "--model", Teacher, "--png", "/proc/dk-none/a.png"], "sample: --png /proc/dk-none/a.png", "cannot write"),
        ["eval --json in an unwritable place"] = new(_ => ["eval", "--model", Teacher, "--json", "/proc/dk-none/a.json"], "eval: --json /proc/dk-none/a.json", "cannot write"),
        ["train-classifier --out in an unwritable place"] = new(t => ["train-classifier", "--data-dir", t._data, "--out", "/proc/dk-none/c.safetensors"], "train-classifier: --out ", "cannot write"),
        ["sample --npy and --png naming one file"] = new(t => ["sample", "--model", Teacher, "--npy", t._dir.File("same"), "--png", t._dir.File("same")], "sample: --npy and --png both name "),
        ["eval --png and --json naming one file"] = new(t => ["eval", "--model", Teacher, "--png", t._dir.File("same"), "--json", t._dir.File("same")], "eval: --png and --json both name "),
        ["sample --npy naming a folder"] = new(t => ["sample", "--model", Teacher, "--npy", t._dir.Path], "sample: --npy ", "is a folder"),
        ["bench --save over a report of the same day"] = new(t => ["bench", "gemm-1024", "--quick", "--save", "--out", t._benchDir], "bench: --save ", "already exists", "--force"),
        ["export --out in an unwritable place"] = new(t => ["export", "--model", Path.Combine(t._trainRun, "model.safetensors"), "--out", "/proc/dk-none/m.safetensors"], "export: --out ", "cannot write"),
        ["sample --npy larger than the disk"] = new(t => ["sample", "--model", FashionTeacher, "--n", "2000000000", "--npy", t._dir.File("huge.npy")], "sample: --npy ", "GB free", "--n"),
        // --out folders: another verb's run is refused, a non-empty one needs --force.
        ["train --out a distillation run"] = new(t => ["train", "--data", "toy:8gaussians", "--out", t._distillRun], "train: --out ", "belongs to a `dk distill diff-instruct` run"),
        ["train --resume --out a distillation run"] = new(t => ["train", "--out", t._distillRun, "--resume"], "train: --out ", "belongs to a `dk distill diff-instruct` run"),
        ["distill diff-instruct --out a training run"] = new(t => ["distill", "diff-instruct", "--teacher", Teacher, "--out", t._trainRun], "distill diff-instruct: --out ", "belongs to a `dk train` run"),
        ["distill boot --out a training run"] = new(t => ["distill", "boot", "--teacher", Teacher, "--out", t._trainRun], "distill boot: --out ", "belongs to a `dk train` run"),
        ["distill pd --out a training run"] = new(t => ["distill", "pd", "--teacher", Teacher, "--out", t._trainRun], "distill pd: --out ", "belongs to a `dk train` run"),
        ["finetune --out a training run"] = new(t => ["finetune", "--teacher", Teacher, "--out", t._trainRun], "finetune: --out ", "belongs to a `dk train` run"),
        ["distill ddil --out a training run"] = new(t => ["distill", "ddil", "--base", "pd", "--teacher", Teacher, "--out", t._trainRun], "distill ddil: --out ", "belongs to a `dk train` run"),
        ["distill dmd2 --out a training run"] = new(t => ["distill", "dmd2", "--teacher", Teacher, "--out", t._trainRun], "distill dmd2: --out ", "belongs to a `dk train` run"),
        ["train-gan --out a training run"] = new(t => ["train-gan", "--data", "fmnist", "--data-dir", t._data, "--out", t._trainRun], "train-gan: --out ", "belongs to a `dk train` run"),
        ["quickstart --out a training run"] = new(t => ["quickstart", "--out", t._trainRun], "quickstart: --out ", "belongs to a `dk train` run"),
        ["train --out a run of its own verb"] = new(t => ["train", "--data", "toy:8gaussians", "--out", t._trainRun], "train: --out ", "holds an earlier `dk train` run", "--resume to continue it, --force"),
        ["train --out a folder holding other files"] = new(t => ["train", "--data", "toy:8gaussians", "--out", t._unmarked], "train: --out ", "is not empty", "notes.txt", "--force"),
        ["train --out a file"] = new(t => ["train", "--data", "toy:8gaussians", "--out", t._existing], "train: --out ", "is a file; expected a folder"),
        ["train --resume --force"] = new(t => ["train", "--out", t._trainRun, "--resume", "--force"], "train: --force ", "--resume"),
        // Model files that are not models.
        ["sample --model a folder"] = new(t => ["sample", "--model", t._dir.Path], "sample: ", "a folder, not a safetensors file"),
        ["eval --model a text file"] = new(t => ["eval", "--model", t._text], "eval: ", "not a safetensors file"),
        ["inspect a folder"] = new(t => ["inspect", t._dir.Path], "inspect: ", "a folder, not a safetensors file"),
        ["inspect a text file"] = new(t => ["inspect", t._text], "inspect: ", "not a safetensors file"),
        ["set-sampler --model a folder"] = new(t => ["set-sampler", "--model", t._dir.Path, "--steps", "4"], "set-sampler: ", "a folder, not a safetensors file"),
        ["export --model a text file"] = new(t => ["export", "--model", t._text, "--out", t._dir.File("e.safetensors")], "export: ", "not a safetensors file"),
        ["train --init-from a text file"] = new(t => ["train", "--data", "toy:8gaussians", "--init-from", t._text, "--out", t._dir.File("w")], "train: ", "not a safetensors file"),
        ["distill diff-instruct --teacher a folder"] = new(t => ["distill", "diff-instruct", "--teacher", t._dir.Path, "--out", t._dir.File("d")], "distill diff-instruct: "),
        ["quickstart --fmnist-model an absent file"] = new(t => ["quickstart", "--out", t._dir.File("qs"), "--fmnist-model", t._dir.File("nope.safetensors")], "quickstart: --fmnist-model ", "does not exist"),
        // Options the model kind cannot take, or beyond their stated limits.
        ["sample a one-step student with heun"] = new(_ => ["sample", "--model", Student, "--sampler", "heun", "--steps", "18"], "sample: --sampler heun --steps 18: ", "distilled student", "one level"),
        ["eval a one-step student with other steps"] = new(_ => ["eval", "--model", Student, "--steps", "4"], "eval: --steps 4: ", "distilled student"),
        ["sample an unconditional model with guidance"] = new(_ => ["sample", "--model", Teacher, "--guidance", "5"], "sample: --guidance 5: ", "unconditional"),
        ["sample a generator with a sampler"] = new(_ => ["sample", "--model", Model("fmnist-gan.safetensors"), "--steps", "4"], "sample: --steps 4: ", "generator"),
        ["eval an unconditional model with guidance"] = new(_ => ["eval", "--model", Teacher, "--guidance", "2"], "eval: --guidance 2: ", "unconditional"),
        ["sample an unconditional model with a class"] = new(_ => ["sample", "--model", Teacher, "--class", "3"], "sample: --class 3: ", "unconditional"),
        ["sample --n 0"] = new(_ => ["sample", "--model", Teacher, "--n", "0"], "sample: --n 0 must be ≥ 1"),
        ["sample --steps 0"] = new(_ => ["sample", "--model", Teacher, "--steps", "0"], "sample: --steps 0 must be ≥ 1"),
        ["eval --n 1"] = new(_ => ["eval", "--model", Teacher, "--n", "1"], "eval: --n 1 must be ≥ 2"),
        ["eval --n beyond what a toy keeps"] = new(_ => ["eval", "--model", Teacher, "--n", "5000000"], "eval: --n 5,000,000: ", "1,000,000"),
        ["train --steps 0"] = new(t => ["train", "--data", "toy:8gaussians", "--steps", "0", "--out", t._dir.File("s0")], "train: --steps 0 must be ≥ 1"),
        ["train-gan --beta1 0.9"] = new(_ => ["train-gan", "--data", "fmnist", "--beta1", "0.9"], "train-gan: --beta1 0.9 must lie in [0, 0.5]"),
        ["train-gan --preview 500"] = new(_ => ["train-gan", "--data", "fmnist", "--preview", "500"], "train-gan: --preview 500: at most 100"),
        // Library settings surface as the flag that sets them.
        ["sample --sampler unknown"] = new(_ => ["sample", "--model", Teacher, "--sampler", "rk4"], "sample: --sampler: unknown sampler 'rk4'"),
        ["eval --threshold unknown"] = new(_ => ["eval", "--model", Teacher, "--threshold", "sometimes"], "eval: --threshold: unknown x0 threshold 'sometimes'"),
        ["train --batch 0"] = new(t => ["train", "--data", "toy:8gaussians", "--batch", "0", "--out", t._dir.File("b0")], "train: --batch 0 must be ≥ 1"),
        ["train --log-every 0"] = new(t => ["train", "--data", "toy:8gaussians", "--log-every", "0", "--out", t._dir.File("l0")], "train: --log-every 0 must be ≥ 1"),
        ["train --checkpoint-every -1"] = new(t => ["train", "--data", "toy:8gaussians", "--checkpoint-every", "-1", "--out", t._dir.File("c1")], "train: --checkpoint-every -1 must be ≥ 0"),
        ["train --ema-half-life -1"] = new(t => ["train", "--data", "toy:8gaussians", "--ema-half-life", "-1", "--out", t._dir.File("e1")], "train: --ema-half-life -1 must be finite and ≥ 0"),
        ["train --lr 0"] = new(t => ["train", "--data", "toy:8gaussians", "--lr", "0", "--out", t._dir.File("lr0")], "train: --lr 0 must be a finite number > 0"),
        ["finetune --warmup -1"] = new(t => ["finetune", "--teacher", Teacher, "--warmup", "-1", "--out", t._dir.File("w1")], "finetune: --warmup -1 must be ≥ 0"),
        ["train-gan --lr-d 0"] = new(_ => ["train-gan", "--data", "fmnist", "--lr-d", "0"], "train-gan: --lr-d 0 must be a finite number > 0"),
        ["distill diff-instruct --lr-aux 0"] = new(t => ["distill", "diff-instruct", "--teacher", Teacher, "--lr-aux", "0", "--out", t._dir.File("a0")], "distill diff-instruct: --lr-aux 0 must be a finite number > 0"),
        ["distill boot --min-delta 0"] = new(t => ["distill", "boot", "--teacher", Teacher, "--min-delta", "0", "--out", t._dir.File("m0")], "distill boot: --min-delta 0 must be in (0, 1]"),
        ["distill pd --steps-per-round 0"] = new(t => ["distill", "pd", "--teacher", Teacher, "--steps-per-round", "0", "--out", t._dir.File("r0")], "distill pd: --steps-per-round 0 must be ≥ 1"),
        ["distill pd --teacher-steps 3"] = new(t => ["distill", "pd", "--teacher", Teacher, "--teacher-steps", "3", "--out", t._dir.File("t3")], "distill pd: --teacher-steps 3 must be a power of two"),
        ["distill dmd2 --clip 0"] = new(t => ["distill", "dmd2", "--teacher", Teacher, "--clip", "0", "--out", t._dir.File("k0")], "distill dmd2: --clip 0 must be a finite number > 0"),
        ["distill ddil --buffer 0"] = new(t => ["distill", "ddil", "--base", "pd", "--teacher", Teacher, "--buffer", "0", "--out", t._dir.File("u0")], "distill ddil: --buffer 0 must be ≥ 1"),
        // Limits over several flags name each flag as typed, checked before any model loads.
        ["distill pd --final-steps halving never reaches"] = new(t => ["distill", "pd", "--teacher", Teacher, "--final-steps", "3", "--out", t._dir.File("f3")], "distill pd: --final-steps 3 cannot be reached by halving --teacher-steps 64", "32, 16, 8, 4, 2, 1"),
        ["distill dmd2 --steps-k above --grid"] = new(t => ["distill", "dmd2", "--teacher", Teacher, "--steps-k", "5", "--grid", "4", "--out", t._dir.File("k5")], "distill dmd2: --steps-k 5 cannot be taken from --grid 4"),
        ["distill boot --sigma-min above --sigma-max"] = new(t => ["distill", "boot", "--teacher", Teacher, "--sigma-min", "100", "--sigma-max", "80", "--out", t._dir.File("s100")], "distill boot: --sigma-min 100 must be below --sigma-max 80"),
        ["distill boot --sigma-min above the default --sigma-max"] = new(t => ["distill", "boot", "--teacher", Teacher, "--sigma-min", "90", "--out", t._dir.File("s90")], "distill boot: --sigma-min 90 must be below --sigma-max 80"),
        ["distill diff-instruct --sigma-init below σ_min"] = new(t => ["distill", "diff-instruct", "--teacher", Teacher, "--sigma-init", "0.001", "--out", t._dir.File("i1")], "distill diff-instruct: --sigma-init 0.001 must be a finite number above 0.002", "the teacher's σ_min"),
        ["distill ddil --warmup after --ramp-end"] = new(t => ["distill", "ddil", "--base", "pd", "--teacher", Teacher, "--warmup", "0.5", "--ramp-end", "0.2", "--out", t._dir.File("w5")], "distill ddil: --warmup 0.5 must be ≤ --ramp-end 0.2"),
        ["distill ddil β flags not summing to 1"] = new(t => ["distill", "ddil", "--base", "dmd2", "--teacher", Teacher, "--beta-data", "0.5", "--beta-teacher", "0.5", "--out", t._dir.File("b5")], "distill ddil: --beta-data 0.5 + --beta-teacher 0.5 + --beta-student 0.3 make 1.3", "must sum to 1"),
        ["distill ddil a β flag beyond its own limit"] = new(t => ["distill", "ddil", "--base", "pd", "--teacher", Teacher, "--beta-data", "2", "--out", t._dir.File("b2")], "distill ddil: --beta-data 2 must lie in [0, 1]"),
        ["distill ddil pd --student-steps halving never reaches"] = new(t => ["distill", "ddil", "--base", "pd", "--teacher", Teacher, "--student-steps", "3", "--out", t._dir.File("p3")], "distill ddil: --student-steps 3 cannot be reached by halving --teacher-steps 64"),
        ["distill ddil dmd2 --student-steps beyond its grid"] = new(t => ["distill", "ddil", "--base", "dmd2", "--teacher", Teacher, "--student-steps", "3000", "--out", t._dir.File("d3")], "distill ddil: --student-steps 3000 cannot be taken from the dmd2 base's 1000-point σ grid"),
        ["distill ddil --teacher-steps not a power of two"] = new(t => ["distill", "ddil", "--base", "pd", "--teacher", Teacher, "--teacher-steps", "48", "--out", t._dir.File("t48")], "distill ddil: --teacher-steps 48 must be a power of two"),
        ["distill ddil an unknown --base"] = new(t => ["distill", "ddil", "--base", "cm", "--teacher", Teacher, "--out", t._dir.File("cm")], "distill ddil: --base cm: expected pd or dmd2"),
        // A number that overflows is quoted as typed, not as the ∞ it became.
        ["train --lr 1e999"] = new(t => ["train", "--data", "toy:8gaussians", "--lr", "1e999", "--out", t._dir.File("lr9")], "train: --lr 1e999 is not a finite number"),
        ["distill boot --guidance 1e999"] = new(t => ["distill", "boot", "--teacher", Teacher, "--guidance", "1e999", "--out", t._dir.File("g9")], "distill boot: --guidance 1e999 is not a finite number"),
        ["train-gan --beta1 -1e999"] = new(_ => ["train-gan", "--data", "fmnist", "--beta1", "-1e999"], "train-gan: --beta1 -1e999 is not a finite number"),
        // set-sampler and train-classifier take the same limits as the command line is parsed.
        ["set-sampler --steps 0"] = new(_ => ["set-sampler", "--model", Teacher, "--steps", "0", "--force"], "set-sampler: --steps 0 must be ≥ 1"),
        ["set-sampler --sampler unknown"] = new(_ => ["set-sampler", "--model", Teacher, "--sampler", "rk4", "--force"], "set-sampler: --sampler: unknown sampler 'rk4'"),
        ["set-sampler --sigma-max below σ_min"] = new(_ => ["set-sampler", "--model", Teacher, "--sigma-max", "0.001", "--force"], "set-sampler: --sigma-max 0.001 must be a finite number above 0.002"),
        ["train-classifier --epochs 0"] = new(t => ["train-classifier", "--data-dir", t._data, "--epochs", "0", "--out", t._dir.File("c0")], "train-classifier: --epochs 0 must be ≥ 1"),
        ["train-classifier --batch 0"] = new(t => ["train-classifier", "--data-dir", t._data, "--batch", "0", "--out", t._dir.File("c1")], "train-classifier: --batch 0 must be ≥ 1"),
        ["train-classifier --lr 1e999"] = new(t => ["train-classifier", "--data-dir", t._data, "--lr", "1e999", "--out", t._dir.File("c2")], "train-classifier: --lr 1e999 is not a finite number"),
        ["bench --seconds -1"] = new(_ => ["bench", "--seconds", "-1"], "bench: --seconds -1 "),
        ["bench an unknown case"] = new(_ => ["bench", "zzz"], "bench: unknown case 'zzz'"),
        ["check-ops --filter matching nothing"] = new(_ => ["check-ops", "--filter", "zzz"], "check-ops: --filter zzz matches no case"),
        ["train-classifier --data a folder"] = new(t => ["train-classifier", "--data", t._data], "train-classifier: --data ", "pass it as --data-dir"),
        ["sample --n not a number"] = new(_ => ["sample", "--model", Teacher, "--n", "abc"], "sample: --n abc: expected a whole number"),
        ["train-gan --preview not a number"] = new(_ => ["train-gan", "--data", "fmnist", "--preview", "x"], "train-gan: --preview x: expected a whole number"),
        ["an unknown verb"] = new(_ => ["samp"], "", "unexpected argument 'samp'", "dk --help"),
        ["an unknown option"] = new(_ => ["sample", "--model", Teacher, "--nn", "3"], "sample: unknown option --nn", "dk sample --help"),
    };

    private static IEnumerable<TestCaseData> Walk() => Cases.Keys.Select(k => new TestCaseData(k).SetName($"dk refuses {k}"));

    [OneTimeSetUp]
    public void MakeRunsAndFiles()
    {
        _dir = new TempDir();
        _data = FakeFashion.Write(_dir, 12);
        _trainRun = Run("train-run", "train", "--data", "toy:8gaussians", "--steps", "2", "--batch", "16", "--preview", "0");
        _distillRun = Run("distill-run", "distill", "diff-instruct", "--teacher", Teacher, "--steps", "1", "--batch", "4", "--preview", "0");
        _unmarked = _dir.File("unmarked");
        Directory.CreateDirectory(_unmarked);
        File.WriteAllText(Path.Combine(_unmarked, "notes.txt"), "kept");
        _text = _dir.File("text.safetensors");
        File.WriteAllText(_text, "a text file renamed .safetensors, far longer than eight bytes\n");
        _existing = _dir.File("existing.out");
        File.WriteAllText(_existing, "written by someone else");
        _benchDir = _dir.File("bench");
        Directory.CreateDirectory(_benchDir);
        File.WriteAllText(Path.Combine(_benchDir, $"cpu-{DateTime.UtcNow:yyyy-MM-dd}.json"), "{}");
        _classifier = _dir.File("classifier.safetensors");
        File.Copy(Model("fmnist-classifier.safetensors"), _classifier);
    }

    [OneTimeTearDown]
    public void RemoveThem() => _dir.Dispose();

    [TestCaseSource(nameof(Walk))]
    public void RefusedInOneLineBeforeAnyWorkWithNothingChanged(string name)
    {
        var c = Cases[name];
        var before = Hashes();
        var r = Dk(c.Args(this));
        AssertOneLineError(r, c.Start.Length == 0 ? "dk: " : "dk " + c.Start, c.Names);
        Assert.That(Hashes(), Is.EqualTo(before), "no file that was there changed, and none appeared");
    }

    [Test]
    public void WithForceAnOutputIsReplacedAndAFolderIsStartedOver()
    {
        using var dir = new TempDir();
        string npy = dir.File("a.npy");
        File.WriteAllText(npy, "old");
        var r = Dk("sample", "--model", Teacher, "--n", "4", "--npy", npy, "--force");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(File.ReadAllText(npy), Does.Not.EqualTo("old"));

        string run = dir.File("run");
        Assert.That(Dk("train", "--data", "toy:8gaussians", "--steps", "2", "--batch", "8", "--preview", "0", "--out", run).Code, Is.EqualTo(0));
        var again = Dk("train", "--data", "toy:8gaussians", "--steps", "3", "--batch", "8", "--preview", "0", "--out", run, "--force");
        Assert.That(again.Code, Is.EqualTo(0), again.Err);
        Assert.That(again.Out, Does.Contain("done: 3 steps"));
    }

    [Test]
    public void WithForceANewRunRemovesTheEarlierRunsFilesAndNothingElse()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        string[] Train(int steps) => ["train", "--data", "toy:8gaussians", "--steps", $"{steps}", "--batch", "8", "--checkpoint-every", "2", "--preview", "16", "--out", run];
        Assert.That(Dk(Train(4)).Code, Is.EqualTo(0));
        string laterPreview = Path.Combine(run, "samples-0000004.png");
        Assert.That(laterPreview, Does.Exist, "the earlier run previews step 4");
        File.WriteAllText(Path.Combine(run, "notes.txt"), "the user's");
        File.WriteAllText(Path.Combine(run, "samples-best.png"), "the user's, not a preview's name");
        string crashedSave = Path.Combine(run, $".model.safetensors.{Guid.NewGuid():N}.tmp"), crashedLog = Path.Combine(run, "log.jsonl.tmp");
        File.WriteAllText(crashedSave, "half a checkpoint: what a killed save leaves");
        File.WriteAllText(crashedLog, "half a log");
        File.WriteAllText(Path.Combine(run, "notes.txt.tmp"), "the user's, named like no output");
        string earlier = File.ReadAllText(Path.Combine(run, Marker));

        var refused = Dk([.. Train(2), "--force", "--init-from", dir.File("absent.safetensors")]);
        Assert.That(refused.Code, Is.EqualTo(2), refused.Err);
        Assert.That(laterPreview, Does.Exist, "a new run that never started removes nothing");

        var again = Dk([.. Train(2), "--force"]);
        Assert.That(again.Code, Is.EqualTo(0), again.Err);
        Assert.That(laterPreview, Does.Not.Exist, "the earlier run's preview of a step this run never reaches is gone");
        Assert.That(Path.Combine(run, "samples-0000002.png"), Does.Exist);
        Assert.That(File.ReadAllText(Path.Combine(run, "notes.txt")), Is.EqualTo("the user's"));
        Assert.That(File.ReadAllText(Path.Combine(run, "samples-best.png")), Is.EqualTo("the user's, not a preview's name"));
        Assert.That(new[] { crashedSave, crashedLog }, Has.None.Exist, "what the earlier run's interrupted saves left is gone");
        Assert.That(Path.Combine(run, "notes.txt.tmp"), Does.Exist);
        Assert.That(File.ReadAllText(Path.Combine(run, Marker)), Does.Not.EqualTo(earlier), "the folder records the new run");
        Assert.That(File.ReadAllLines(Path.Combine(run, "log.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).Max(),
            Is.EqualTo(2), "the log holds the new run's steps only");
    }

    [Test]
    public void WithForceANewProgressiveRunRemovesTheEarlierRoundsStudents()
    {
        using var dir = new TempDir();
        string run = dir.File("pd");
        string[] Pd(int finalSteps, int steps) => ["distill", "pd", "--teacher", Teacher, "--final-steps", $"{finalSteps}", "--steps-per-round", "1", "--steps", $"{steps}", "--batch", "8", "--preview", "0", "--out", run];
        Assert.That(Dk(Pd(16, 2)).Code, Is.EqualTo(0));
        Assert.That(Path.Combine(run, "student-k16.safetensors"), Does.Exist);
        var again = Dk([.. Pd(32, 1), "--force"]);
        Assert.That(again.Code, Is.EqualTo(0), again.Err);
        Assert.That(Path.Combine(run, "student-k32.safetensors"), Does.Exist);
        Assert.That(Path.Combine(run, "student-k16.safetensors"), Does.Not.Exist, "a round the new run never reaches leaves no student of the earlier run");
    }

    [Test]
    public void ARunFolderNamesItsVerbAndAResumeKeepsIt()
    {
        string marker = File.ReadAllText(Path.Combine(_trainRun, ".dk-run.json"));
        Assert.That(marker, Does.Contain("\"verb\": \"train\"").And.Contain("\"run\": ").And.Contain("\"started\": "));
        Assert.That(File.ReadAllText(Path.Combine(_distillRun, ".dk-run.json")), Does.Contain("\"verb\": \"distill diff-instruct\""));
    }

    [Test]
    public void TrainClassifierNeverWritesTheCommittedClassifierByDefault()
    {
        var r = Dk("train-classifier", "--help");
        Assert.That(r.Out, Does.Contain("runs/classifier/fmnist-classifier.safetensors").And.Not.Contain("models/fmnist-classifier"));
    }

    // Every file under the test folder and the committed models the cases read, by path, with its SHA-256.
    private SortedDictionary<string, string> Hashes()
    {
        var files = Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories).Concat([Teacher, Student, FashionTeacher]);
        return new SortedDictionary<string, string>(files.ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);
    }

    private string Run(string name, params string[] args)
    {
        string run = _dir.File(name);
        var r = Dk([.. args, "--out", run]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        return run;
    }
}
