using System.Text.Json;
using System.Text.RegularExpressions;
using DiffKernels.Diffusion.Sampling;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk eval and dk sample on a range of a conditional Fashion-MNIST model's classes (--classes), on fake data and a tiny model.</summary>
public class EvalClassesCliTests
{
    // FakeFashion labels image i with i mod 10: 40 images hold four of each class, 20 of classes 5-9.
    private const int Images = 40;

    // Spectre wraps a table's title to the table's width.
    private static string Flat(string text) => Regex.Replace(text, @"\s+", " ");

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private static double[] Numbers(JsonElement e) =>
        [.. new[] { "fd", "floor", "precision", "recall", "class_entropy" }.Select(k => e.GetProperty(k).GetDouble()),
         .. e.GetProperty("class_counts").EnumerateArray().Select(c => (double)c.GetInt32())];

    [Test]
    public void WithoutClassesTheScoresAreThoseOfBeforeAndAllTenClassesGiveTheSame()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, Images), clf = FakeFashion.TinyClassifier(dir), model = TinyModels.FashionTeacherFile(dir);
        string plain = dir.File("plain.json"), ten = dir.File("ten.json");
        var eval = Dk("eval", "--model", model, "--n", "20", "--data-dir", data, "--classifier", clf, "--json", plain);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(Flat(eval.Out), Does.Contain("on the Fashion-MNIST test set").And.Contain("class entropy / ln 10").And.Not.Contain("classified as"));
        var json = Json(plain);
        Assert.That(json.GetProperty("data").GetString(), Is.EqualTo("fmnist"));
        Assert.That(json.TryGetProperty("classes", out _) || json.TryGetProperty("in_classes_fraction", out _), Is.False, "a whole-set report keeps its keys");
        // Measured on this fixture by dk eval before --classes existed; the tolerance allows for another SIMD width's summation order.
        double[] before = [0.030496682256272223, 0.005200052945435643, 0.35, 0.75, 0.2988548895792612, 0, 0, 11, 0, 0, 9, 0, 0, 0, 0];
        Assert.That(Numbers(json), Is.EqualTo(before).Within(1e-4).Percent);

        var all = Dk("eval", "--model", model, "--n", "20", "--data-dir", data, "--classifier", clf, "--classes", "0-9", "--json", ten);
        Assert.That(all.Code, Is.EqualTo(0), all.Err);
        Assert.That(Numbers(Json(ten)), Is.EqualTo(Numbers(json)), "balanced labels over 0-9 are the default labels; every real set is whole");
        Assert.That(Json(ten).GetProperty("data").GetString(), Is.EqualTo("fmnist@classes=0-9"));
    }

    [Test]
    public void ARangeIsSampledAndScoredAndRecordedInTheOutput()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, Images), clf = FakeFashion.TinyClassifier(dir), model = TinyModels.FashionTeacherFile(dir);
        string json = dir.File("eval.json");
        var eval = Dk("eval", "--model", model, "--n", "10", "--data-dir", data, "--classifier", clf, "--classes", "5-9", "--json", json);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(Flat(eval.Out), Does.Contain("on the Fashion-MNIST test images of classes 5-9").And.Contain("floor (10 training images of classes 5-9)")
            .And.Contain("class entropy / ln 5").And.Contain("classified as classes 5-9"));
        var r = Json(json);
        Assert.That(r.GetProperty("data").GetString(), Is.EqualTo("fmnist@classes=5-9"));
        Assert.That(r.GetProperty("classes").EnumerateArray().Select(c => c.GetInt32()), Is.EqualTo(new[] { 5, 6, 7, 8, 9 }));
        var counts = r.GetProperty("class_counts").EnumerateArray().Select(c => c.GetInt32()).ToArray();
        Assert.That(counts.Sum(), Is.EqualTo(10));
        Assert.That(r.GetProperty("in_classes_fraction").GetDouble(), Is.EqualTo(counts[5..].Sum() / 10.0));
        Assert.That(r.GetProperty("fd").GetDouble(), Is.GreaterThan(0));

        // The range reaches the sampler: one class as a range draws what --class draws.
        string one = dir.File("one.npy"), range = dir.File("range.npy");
        Assert.That(Dk("sample", "--model", model, "--n", "3", "--class", "7", "--npy", one).Code, Is.EqualTo(0));
        var sample = Dk("sample", "--model", model, "--n", "3", "--classes", "7", "--npy", range);
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(NpyFile.Read(range).Data, Is.EqualTo(NpyFile.Read(one).Data));
    }

    [Test]
    public void ARangeIsRefusedInOneLineWhereItCannotApply()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, Images), clf = FakeFashion.TinyClassifier(dir), model = TinyModels.FashionTeacherFile(dir);
        string unconditional = TinyModels.FashionTeacherFile(dir, classes: 0), toy = TinyModels.ToyTeacherFile(dir);
        (int, string, string) Eval(string m, string classes, string n = "10") =>
            Dk("eval", "--model", m, "--n", n, "--data-dir", data, "--classifier", clf, "--classes", classes);

        AssertOneLineError(Eval(unconditional, "5-9"), "dk eval: --classes 5-9:", "is unconditional");
        AssertOneLineError(Eval(model, "5-10"), "dk eval: --classes 5-10 is not a range of this model's classes", "0-9");
        AssertOneLineError(Eval(model, "9-5"), "dk eval: --classes '9-5' is not a class range FIRST-LAST");
        AssertOneLineError(Eval(toy, "0-1"), "dk eval: --classes 0-1: only Fashion-MNIST models", "toy:moons");
        AssertOneLineError(Eval(model, "5-9", n: "21"), "dk eval: --n 21: the FD floor needs as many training images of classes 5-9", "there are 20");
        AssertOneLineError(Dk("eval", "--model", model, "--data", "fmnist@classes=5-9", "--data-dir", data, "--classifier", clf),
            "dk eval: --data fmnist@classes=5-9:", "--classes");
        AssertOneLineError(Dk("sample", "--model", unconditional, "--n", "2", "--classes", "5-9"), "dk sample: --classes 5-9:", "is unconditional");
        AssertOneLineError(Dk("sample", "--model", model, "--n", "2", "--classes", "8-10"), "dk sample: --classes 8-10 is not a range");
        AssertOneLineError(Dk("sample", "--model", model, "--n", "2", "--class", "3", "--classes", "5-9"), "dk sample: --class 3 and --classes 5-9");
    }
}
