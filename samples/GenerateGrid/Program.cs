using System.Diagnostics;
using System.Globalization;
using DiffKernels;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using GenerateGrid;

// GenerateGrid MODEL OUT.png [--per-class K] [--seed S] [--time N]
// Loads a generator, draws K images of every class (one row each, labelled), writes the grid as a PNG, and says how
// long the first image took from process start; --time N then draws three batches of N and reports milliseconds per image.
const string Usage = "usage: GenerateGrid MODEL.safetensors OUT.png [--per-class K] [--seed S] [--time N]";
if (args.Length < 2) return Fail(Usage);
string modelPath = args[0], outPath = args[1];
int perClass = 8, timeCount = 0;
ulong seed = 0;
for (int i = 2; i < args.Length; i += 2)
{
    if (i + 1 >= args.Length) return Fail($"{args[i]}: a value is expected. {Usage}");
    string value = args[i + 1];
    bool ok = args[i] switch
    {
        "--per-class" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out perClass) && perClass >= 1,
        "--seed" => ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out seed),
        "--time" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out timeCount) && timeCount >= 1,
        _ => false,
    };
    if (!ok) return Fail($"{args[i]} {value}: not an option with a valid value. {Usage}");
}

try
{
    using var model = PretrainedModel.Load(modelPath);
    if (model.SampleShape.Rank != 3 || model.SampleShape[0] != 1)
        return Fail($"{modelPath}: samples of shape {model.SampleShape}; this sample draws one-channel images");
    model.Generate(1, seed);
    double startupMs = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
    Console.WriteLine(Inv($"{model.Kind}, {model.NumClasses} classes, {model.DefaultNfe} NFE; first image {startupMs:F0} ms after process start"));

    var names = ClassNames(model);
    var rows = names.Select((name, c) => (name, model.Generate(perClass, seed + (ulong)c, model.NumClasses > 0 ? c : null))).ToList();
    LabelledGrid.Compose(rows, model.SampleShape[1], model.SampleShape[2], scale: 2).SavePng(outPath);
    Console.WriteLine(Inv($"wrote {outPath}: {rows.Count} rows of {perClass}"));

    if (timeCount > 0)
    {
        // The first batch still runs partly unoptimised code under the JIT; the fastest of three is the steady state.
        var ms = Enumerable.Range(0, 3).Select(r =>
        {
            var clock = Stopwatch.StartNew();
            model.Generate(timeCount, seed + 1000 + (ulong)r);
            return clock.Elapsed.TotalMilliseconds / timeCount;
        }).ToList();
        Console.WriteLine(Inv($"{timeCount} images per batch: {ms[0]:F2} ms per image in the first, {ms.Min():F2} ms per image in the fastest of 3"));
    }
    return 0;
}
catch (InvalidInputException e)
{
    return Fail(e.Message);
}

// A row per class, named as the data set names them when the checkpoint records Fashion-MNIST.
static IReadOnlyList<string> ClassNames(PretrainedModel model)
{
    if (model.NumClasses == 0) return ["samples"];
    bool fashion = CheckpointKind.DataSpec(model.Metadata) is { } spec && spec.StartsWith("fmnist", StringComparison.Ordinal);
    return Enumerable.Range(0, model.NumClasses)
        .Select(c => fashion && model.NumClasses == FashionMnist.NumClasses ? FashionMnist.ClassNames[c] : $"class {c}").ToList();
}

static int Fail(string message)
{
    Console.Error.WriteLine($"GenerateGrid: {message}");
    return 2;
}

static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
