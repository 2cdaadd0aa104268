using System.Text.RegularExpressions;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>
/// What long work prints into redirected output (the tests capture it, as a file or a pipe would): the estimate
/// after its first part or iterations, no progress bars, and each stage's last line with the time it took.
/// </summary>
public class ProgressCliTests
{
    private static readonly string Teacher = Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors");

    // "about 3.1 s", "about 14 min", "about 2.5 h", "about 1.2 days".
    private const string About = @"about [0-9.]+ (s|min|h|days)";

    private static string[] Lines(string output) => output.ReplaceLineEndings("\n").Split('\n');

    [Test]
    public void SampleEstimatesItsWholeDrawFromTheFirstPart()
    {
        var r = Dk("sample", "--model", Teacher, "--n", "2000", "--batch", "500");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var lines = Lines(r.Out);
        Assert.That(lines, Has.One.Match($@"^{About} for 2,000 samples \(measured [0-9.]+ (ms|s)/sample on the first 500\)$"), r.Out);
        Assert.That(lines, Has.One.Match(@"^sampled 2,000/2,000  \(took [0-9.]+ (s|min|h|days)\)$"), "the stage's last line, once");
        Assert.That(r.Out, Does.Not.Contain("━").And.Not.Contain("\u001b["), "no bars or cursor movement in redirected output");
        int estimate = Array.FindIndex(lines, l => l.StartsWith("about ", StringComparison.Ordinal));
        int last = Array.FindIndex(lines, l => l.StartsWith("sampled ", StringComparison.Ordinal));
        Assert.That(estimate, Is.LessThan(last), "the estimate comes before the work's last line");
    }

    [Test]
    public void WorkDoneInItsFirstPartPrintsNoEstimate()
    {
        var r = Dk("sample", "--model", Teacher, "--n", "300");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Not.Contain("about "), "nothing was left to estimate");
        Assert.That(Lines(r.Out), Has.One.Match(@"^sampled 300/300  \(took "));
    }

    [Test]
    public void ToyEvalEstimatesItsDraw()
    {
        var r = Dk("eval", "--model", Teacher, "--n", "2000", "--batch", "500");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(Lines(r.Out), Has.One.Match($@"^{About} to draw 2,000 samples \(measured [0-9.]+ (ms|s)/sample on the first 500\); then sliced W2 and the floor$"), r.Out);
        Assert.That(Lines(r.Out), Has.One.Match(@"^drawing 2,000 samples \(heun, 35 NFE\): 2,000/2,000  \(took "));
    }

    [Test]
    public void ImageEvalShowsEveryStageItsLastLine()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir), clf = FakeFashion.TinyClassifier(dir);
        var r = Dk("eval", "--model", Path.Combine(RepoFiles.ModelsDir(), "fmnist-gan.safetensors"), "--n", "10", "--data-dir", data, "--classifier", clf);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var lines = Lines(r.Out);
        string[] stages =
        [
            @"^drawing 10 samples \(generator, 1 NFE\): 10/10  \(took ",
            @"^features of the test set: 24/24 images  \(took ",
            @"^precision/recall \(k-NN\): 68/68 rows of distances  \(took ",
            @"^floor, features of the training images: 10/10  \(took ",
        ];
        var at = stages.Select(s => Array.FindIndex(lines, l => Regex.IsMatch(l, s))).ToArray();
        Assert.That(at, Has.None.EqualTo(-1), r.Out);
        Assert.That(at, Is.Ordered.Ascending, "in the order the work does them");
        foreach (var s in stages) Assert.That(lines, Has.One.Match(s), "one last line per stage");
        Assert.That(r.Out, Does.Contain("FD (classifier features)"));
    }

    [Test]
    public void ARunEstimatesItsRemainingIterationsNewAndResumed()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var first = Dk("train", "--data", "toy:8gaussians", "--steps", "20", "--batch", "16", "--preview", "0", "--out", run);
        Assert.That(first.Code, Is.EqualTo(0), first.Err);
        var lines = Lines(first.Out);
        Assert.That(lines, Has.One.Match($@"^{About} for 20 iterations \(measured [0-9.]+ (ms|s)/iteration on iterations 2–[0-9]+\)$"), first.Out);
        Assert.That(lines, Has.One.Match(@"^step 20/20  loss [0-9.]+  [0-9,]+ samples/s  \(took "), "the run's last line, once");
        Assert.That(lines.Count(l => l.StartsWith("step ", StringComparison.Ordinal)), Is.LessThanOrEqualTo(2), "no line per iteration");

        var resumed = Dk("train", "--out", run, "--resume", "--steps", "30");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(Lines(resumed.Out), Has.One.Match($@"^{About} for the 10 iterations from step 20 to 30 \(measured "), resumed.Out);
        Assert.That(Lines(resumed.Out), Has.One.Match(@"^step 30/30 .*\(took "));
    }
}
