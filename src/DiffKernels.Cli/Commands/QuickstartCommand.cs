using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk quickstart`: the first thing to run on a fresh machine. Trains an Mlp teacher on 8 Gaussians (about a
/// minute on 2 cores), samples it at 35 NFE with Heun, writes a scatter PNG and metrics JSON; samples the committed
/// one-step Diff-Instruct and BOOT students of the committed 8 Gaussians teacher the same way; then samples the committed
/// Fashion-MNIST teacher (a PNG grid, and FD against the test set when the data set is installed) and, when their files
/// exist, its one-step Diff-Instruct and BOOT students; and ends with a table holding one row per model. A missing default teacher,
/// classifier or data set is reported in the table, not treated as a failure; a student whose default file is absent has no
/// row; a file named on the command line must exist ("none" leaves its row out). --out is its own (a re-run over it needs --force).
/// </summary>
internal static class QuickstartCommand
{
    private const string Toy = "8gaussians";

    /// <summary>The value of a model option that leaves its row out on purpose (any other named file must exist).</summary>
    public const string Skip = "none";

    /// <summary>The committed Fashion-MNIST teacher (relative to the working directory).</summary>
    public const string FashionTeacherPath = "models/fmnist-teacher-xs.safetensors";

    /// <summary>The committed one-step Diff-Instruct student of the 8 Gaussians teacher.</summary>
    public const string ToyStudentPath = "models/toy-8gaussians-diff-instruct.safetensors";

    /// <summary>The one-step Diff-Instruct student of the Fashion-MNIST teacher, once one is committed.</summary>
    public const string FashionStudentPath = "models/fmnist-diff-instruct-xs.safetensors";

    /// <summary>The committed one-step BOOT student of the 8 Gaussians teacher.</summary>
    public const string ToyBootStudentPath = "models/toy-8gaussians-boot.safetensors";

    /// <summary>The one-step BOOT student of the Fashion-MNIST teacher, once one is committed.</summary>
    public const string FashionBootStudentPath = "models/fmnist-boot-xs.safetensors";

    /// <summary>One row of the closing table.</summary>
    private sealed record Row(string Model, string Data, int Nfe, double MsPerSample, string Metric, string Score, string Floor, string Notes);

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => "runs/quickstart" };
        var steps = new Option<int>("--steps") { Description = "Training steps of the toy teacher", DefaultValueFactory = _ => 6000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of training and sampling", DefaultValueFactory = _ => 0UL };
        var samples = new Option<int>("--samples") { Description = "Samples drawn to score the toy teacher", DefaultValueFactory = _ => 10_000 };
        var fashionModel = new Option<string>("--fmnist-model") { Description = "The Fashion-MNIST teacher to sample (none: skip it; the default file only when present)", DefaultValueFactory = _ => FashionTeacherPath };
        var fashionSamples = new Option<int>("--fmnist-samples") { Description = "Images drawn from the Fashion-MNIST teacher (FD is biased upwards at small N; the floor is given at the same N)", DefaultValueFactory = _ => 1000 };
        var toyStudent = new Option<string>("--toy-student") { Description = "The one-step toy student to sample beside the toy teacher (none: no row; the default file only when present)", DefaultValueFactory = _ => ToyStudentPath };
        var fashionStudent = new Option<string>("--fmnist-student") { Description = "The one-step Fashion-MNIST student to sample beside its teacher (none: no row; the default file only when present)", DefaultValueFactory = _ => FashionStudentPath };
        var toyBoot = new Option<string>("--toy-boot-student") { Description = "The one-step BOOT toy student to sample beside the toy teacher (none: no row; the default file only when present)", DefaultValueFactory = _ => ToyBootStudentPath };
        var fashionBoot = new Option<string>("--fmnist-boot-student") { Description = "The one-step BOOT Fashion-MNIST student to sample beside its teacher (none: no row; the default file only when present)", DefaultValueFactory = _ => FashionBootStudentPath };
        var classifier = new Option<string>("--classifier") { Description = "Metric classifier for the Fashion-MNIST FD (none: no FD; the default file only when present)", DefaultValueFactory = _ => EvalCommand.DefaultClassifier };
        var dataDir = DiffusionCli.FashionDirOption();
        var force = OutputGuard.ForceOption("the outputs of an earlier quickstart in --out");
        var device = DeviceOption.Create();
        var cmd = new Command("quickstart", "Train and sample a toy teacher, sample the Fashion-MNIST teacher, then print what every model scores")
        {
            output, force, steps, seed, samples, toyStudent, toyBoot, fashionModel, fashionStudent, fashionBoot, fashionSamples, classifier, dataDir, device,
        };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("quickstart", parseResult.InvocationConfiguration.Error, () =>
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                // Checked before the toy teacher's minute of training, so a wrong file fails at once; a file the user
                // named must be there, a default one only loses its row.
                void Require(Option<string> option, ModelRole role, bool? images) =>
                    RequireIfPresent(parseResult.GetValue(option)!, option.Name, RunCommand.Given(parseResult, option), role, images);
                Require(toyStudent, ModelRole.Student, images: false);
                Require(toyBoot, ModelRole.Student, images: false);
                Require(fashionModel, ModelRole.Teacher, images: true);
                Require(fashionStudent, ModelRole.Student, images: true);
                Require(fashionBoot, ModelRole.Student, images: true);
                Require(classifier, ModelRole.Classifier, images: null);
                if (parseResult.GetValue(steps) < 1) throw new ArgumentException($"--steps {parseResult.GetValue(steps)} must be ≥ 1");
                if (parseResult.GetValue(samples) is < 2 or > EvalCommand.MaxToySamples)
                    throw new ArgumentException(DiffusionCli.Inv($"--samples {parseResult.GetValue(samples)} must lie in [2, {EvalCommand.MaxToySamples:N0}]"));
                if (parseResult.GetValue(fashionSamples) is < 2 or > EvalCommand.MaxImageSamples)
                    throw new ArgumentException(DiffusionCli.Inv($"--fmnist-samples {parseResult.GetValue(fashionSamples)} must lie in [2, {EvalCommand.MaxImageSamples:N0}]"));
                string outDir = parseResult.GetValue(output)!;
                OutputGuard.Folder(outDir, "quickstart", resume: false, parseResult.GetValue(force)).Claim();
                using var on = DeviceOption.Open(parseResult, device);
                var rows = new List<Row>();
                var toyRow = ToyTeacher(console, on.Device, outDir, parseResult.GetValue(steps), parseResult.GetValue(seed), parseResult.GetValue(samples));
                if (toyRow == null) return DiffusionCli.Interrupted;
                rows.Add(toyRow);
                if (ToyStudent(console, on.Device, outDir, parseResult.GetValue(toyStudent)!, parseResult.GetValue(seed), parseResult.GetValue(samples), toyRow, "2", "Diff-Instruct", "diff-instruct") is { } studentRow)
                    rows.Add(studentRow);
                if (ToyStudent(console, on.Device, outDir, parseResult.GetValue(toyBoot)!, parseResult.GetValue(seed), parseResult.GetValue(samples), toyRow, "2b", "BOOT", "boot") is { } bootRow)
                    rows.Add(bootRow);
                var fashion = new FashionRun(console, on.Device, outDir, parseResult.GetValue(fashionSamples), parseResult.GetValue(classifier)!, parseResult.GetValue(dataDir)!, parseResult.GetValue(seed));
                var teacherRow = FashionTeacher(fashion, parseResult.GetValue(fashionModel)!);
                rows.Add(teacherRow);
                string fashionStudentPath = parseResult.GetValue(fashionStudent)!;
                if (File.Exists(fashionStudentPath))
                {
                    console.Write(new Rule(Markup.Escape("4. One-step Diff-Instruct student of the Fashion-MNIST teacher")).LeftJustified());
                    rows.Add(WithSpeedUp(FashionModel(fashion, "Diff-Instruct student (1 step)", "fmnist-diff-instruct", fashionStudentPath), teacherRow));
                }
                else
                    console.MarkupLine(Markup.Escape($"no Fashion-MNIST student at {fashionStudentPath}: no row for it"));
                string fashionBootPath = parseResult.GetValue(fashionBoot)!;
                if (File.Exists(fashionBootPath))
                {
                    console.Write(new Rule(Markup.Escape("4b. One-step BOOT student of the Fashion-MNIST teacher")).LeftJustified());
                    rows.Add(WithSpeedUp(FashionModel(fashion, "BOOT student (1 step)", "fmnist-boot", fashionBootPath), teacherRow));
                }
                else
                    console.MarkupLine(Markup.Escape($"no Fashion-MNIST BOOT student at {fashionBootPath}: no row for it"));
                console.Write(Summary(rows));
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv($"quickstart took {watch.Elapsed.TotalSeconds:F0} s")));
                return 0;
            });
        });
        return cmd;
    }

    /// <summary>
    /// Checks the kind of a model the quickstart reads, when its file is there (an absent default only loses its row; an
    /// absent file the user <paramref name="named"/> is refused), and
    /// whether it draws images (<paramref name="images"/> true) or toy points (false) for the row it stands in.
    /// </summary>
    private static void RequireIfPresent(string path, string flag, bool named, ModelRole role, bool? images)
    {
        string purpose = "dk quickstart " + flag;
        if (named && path != Skip && !File.Exists(path))
            throw new ArgumentException(Directory.Exists(path) ? $"{flag} {path} is a folder; expected a .safetensors file" : $"{flag} {path} does not exist");
        if (!File.Exists(path)) return;
        var kind = CheckpointKind.RequireModel(path, purpose, role);
        if (images is not { } wantImages) return;
        using var model = PretrainedModel.Load(path);
        bool drawsImages = model.SampleShape.Rank == 3;
        if (drawsImages != wantImages || (!wantImages && SampleCommand.TrainedToy(model.Metadata) == null))
            throw new SafeTensorsFormatException(path, $"{kind.Description}; {purpose} needs a model of {(wantImages ? "Fashion-MNIST images" : "a toy's 2D points")} (it draws samples of shape {model.SampleShape})");
    }

    /// <summary>Trains, samples and scores the toy teacher; null when interrupted by Ctrl-C.</summary>
    private static Row? ToyTeacher(IAnsiConsole console, Device device, string outDir, int steps, ulong seed, int evalSamples)
    {
        string dir = Path.Combine(outDir, $"toy-{Toy}-teacher");
        Directory.CreateDirectory(dir);
        // A quickstart starts over: the previous run's checkpoint and log would otherwise be resumed or appended to.
        foreach (var stale in new[] { EdmTrainer.CheckpointFile, EdmTrainer.LogFile }) File.Delete(Path.Combine(dir, stale));

        var source = new ToyDataSource(ToyDistribution.FromName(Toy));
        var options = new TrainerOptions
        {
            Steps = steps, BatchSize = 512, Lr = 2e-3f, WarmupSteps = 100, EmaHalfLifeSamples = 250_000,
            CheckpointEvery = 0, LogEvery = 50, Seed = seed,
        };
        console.Write(new Rule(Markup.Escape($"1. Mlp teacher on toy:{Toy}")).LeftJustified());
        console.MarkupLine(Markup.Escape($"training {steps} steps at batch {options.BatchSize} into {dir}"));
        using var trainer = new EdmTrainer(ModelFactory.FromPreset("mlp", source.SampleShape, 0, new Generator(seed), device), source, options, dir);
        using (var ctrlC = DiffusionCli.HookCtrlC())
        {
            var result = ProgressView.Run(console, trainer, ctrlC.Token);
            if (result.Interrupted)
            {
                console.MarkupLine(Markup.Escape($"interrupted at step {result.Step}; checkpoint saved to {result.CheckpointPath}"));
                return null;
            }
        }

        using var teacher = ModelFactory.Load(trainer.CheckpointPath!, device);
        teacher.Model.Eval();
        var sampler = new SamplerOptions(Seed: seed);
        var (report, samples) = ToyEvaluation.Evaluate(teacher.Net, trainer.Edm, source.Toy, evalSamples, sampler, device);
        string png = Path.Combine(outDir, $"toy-{Toy}-teacher.png");
        string json = Path.Combine(outDir, $"toy-{Toy}-teacher.json");
        ToyScatterPlot.Save(png, samples, ToyEvaluation.DensitySample(source.Toy), source.Toy.Modes);
        File.WriteAllText(json, EvaluationJson.Of(trainer.CheckpointPath!, report, sampler));
        // Its file is a run's generic model.safetensors; the title says which model it is.
        console.Write(EvalCommand.Table(trainer.CheckpointPath!, report, $"Mlp teacher trained above ({trainer.CheckpointPath})"));
        console.MarkupLine(Markup.Escape($"wrote {png} and {json}"));
        var c = report.Coverage!;
        return new Row("Mlp teacher (EDM, Heun)", $"toy:{Toy}", report.Nfe, report.MsPerSample, "sliced W2",
            DiffusionCli.Inv($"{report.SlicedWasserstein:F4}"), DiffusionCli.Inv($"{report.Floor:F4}"),
            DiffusionCli.Inv($"{c.Covered}/{c.Total} modes, {c.OffModeFraction:P1} off-mode"));
    }

    /// <summary>
    /// Samples a committed one-step toy student of <paramref name="method"/> with its own sampler (one evaluation) and
    /// scores it like the teacher, in section <paramref name="section"/>, writing toy-NAME-<paramref name="stem"/>.png and
    /// .json; null (and a line saying so) when the file is absent. The row's note compares its speed with the teacher's row.
    /// </summary>
    private static Row? ToyStudent(IAnsiConsole console, Device device, string outDir, string modelPath, ulong seed, int evalSamples, Row teacherRow,
        string section, string method, string stem)
    {
        console.Write(new Rule(Markup.Escape($"{section}. One-step {method} student on toy:{Toy}")).LeftJustified());
        if (!File.Exists(modelPath))
        {
            console.MarkupLine(Markup.Escape($"no student at {modelPath}: no row for it"));
            return null;
        }
        using var student = PretrainedModel.Load(modelPath, device);
        var toy = SampleCommand.TrainedToy(student.Metadata)
            ?? throw new ArgumentException($"{modelPath} does not record a toy as its data; it cannot stand beside the toy:{Toy} teacher");
        var sampler = SampleCommand.Options(student, null, null, seed, 1024);
        // The student comes from the committed teacher, not from the one trained above: say so beside its row.
        string origin = CheckpointKind.Recorded(student.Metadata, "teacher") is { } teacherPath ? $", distilled from {teacherPath}" : "";
        console.MarkupLine(Markup.Escape(DiffusionCli.Inv($"sampling {evalSamples} points from {modelPath}{origin} ({sampler.Kind.ToString().ToLowerInvariant()}, {sampler.Nfe} NFE)")));
        var (report, samples) = ProgressView.Track(console, progress => ToyEvaluation.Evaluate(student, toy, evalSamples, sampler,
            (done, total) => progress(done, total, DiffusionCli.Inv($"sampled {done:N0}/{total:N0}"))));
        string png = Path.Combine(outDir, $"toy-{toy.Name}-{stem}.png");
        string json = Path.Combine(outDir, $"toy-{toy.Name}-{stem}.json");
        ToyScatterPlot.Save(png, samples, ToyEvaluation.DensitySample(toy), toy.Modes.Count > 0 ? toy.Modes : null);
        File.WriteAllText(json, EvaluationJson.Of(modelPath, report, sampler));
        console.Write(EvalCommand.Table(modelPath, report));
        console.MarkupLine(Markup.Escape($"wrote {png} and {json}"));
        string notes = report.Coverage is { } c ? DiffusionCli.Inv($"{c.Covered}/{c.Total} modes, {c.OffModeFraction:P1} off-mode") : "";
        return WithSpeedUp(new Row($"{method} student (1 step)", $"toy:{toy.Name}", report.Nfe, report.MsPerSample, "sliced W2",
            DiffusionCli.Inv($"{report.SlicedWasserstein:F4}"), DiffusionCli.Inv($"{report.Floor:F4}"), notes), teacherRow);
    }

    /// <summary><paramref name="student"/> with its speed-up over <paramref name="teacher"/> appended to its note, when both were timed.</summary>
    private static Row WithSpeedUp(Row student, Row teacher) =>
        double.IsFinite(student.MsPerSample) && double.IsFinite(teacher.MsPerSample) && student.MsPerSample > 0
            ? student with { Notes = DiffusionCli.Inv($"{(student.Notes.Length > 0 ? student.Notes + "; " : "")}{teacher.MsPerSample / student.MsPerSample:F0}× faster than the teacher") }
            : student;

    /// <summary>What sampling a Fashion-MNIST model in the quickstart needs: console, device, output, N, metric classifier, data set, seed.</summary>
    private sealed record FashionRun(IAnsiConsole Console, Device Device, string OutDir, int Samples, string ClassifierPath, string DataDir, ulong Seed);

    /// <summary>The Fashion-MNIST teacher's row: its sampled images and scores, or a note when the file is absent.</summary>
    private static Row FashionTeacher(FashionRun run, string modelPath)
    {
        const string Name = "UNet-XS teacher (EDM, Heun)";
        run.Console.Write(new Rule(Markup.Escape("3. Fashion-MNIST teacher")).LeftJustified());
        if (File.Exists(modelPath)) return FashionModel(run, Name, "fmnist-teacher", modelPath);
        string note = $"skipped: no teacher at {modelPath} (train one with dk train --data fmnist)";
        run.Console.MarkupLine(Markup.Escape(note));
        return new Row(Name, "fmnist", 0, double.NaN, "FD", "—", "—", note);
    }

    /// <summary>
    /// Samples a Fashion-MNIST model at its own default sampler, writes the grid <paramref name="fileStem"/>.png, and
    /// scores the images when the classifier and the data set are there. Whatever is missing becomes the row's note.
    /// </summary>
    private static Row FashionModel(FashionRun run, string name, string fileStem, string modelPath)
    {
        var console = run.Console;
        int n = run.Samples;
        using var loaded = PretrainedModel.Load(modelPath, run.Device);
        var options = SampleCommand.Options(loaded, null, null, run.Seed, 250);
        string png = Path.Combine(run.OutDir, fileStem + ".png");
        string? missing = !File.Exists(run.ClassifierPath) ? $"FD skipped: no metric classifier at {run.ClassifierPath}"
            : FashionTestSetMissing(run.DataDir) is { } why ? $"FD skipped: {why}" : null;
        console.MarkupLine(Markup.Escape(DiffusionCli.Inv($"sampling {n} images from {modelPath} ({options.Kind.ToString().ToLowerInvariant()}, {options.Nfe} NFE)")));
        using var scope = Tensor.Scope();
        if (missing != null)
        {
            var shape = loaded.RawSampleShape;
            int kept = Math.Min(n, ImageEvaluation.KeptImages);
            var head = new float[kept * shape.Numel];
            var (nfe, seconds) = ProgressView.Track(console, progress => loaded.SampleInParts(n, options.Seed, null, options, options.BatchSize, (part, first) =>
            {
                int rows = part.Samples.Shape[0];
                if (first < kept) part.Samples.ToArray().AsSpan(0, (int)((Math.Min(kept, first + rows) - first) * shape.Numel)).CopyTo(head.AsSpan((int)(first * shape.Numel)));
                progress(first + rows, n, DiffusionCli.Inv($"sampled {first + rows:N0}/{n:N0}"));
            }));
            SampleCommand.WriteGrid(png, Tensor.FromArray(head, [kept, .. shape.ToArray()]), loaded.Crop);
            console.MarkupLine(Markup.Escape($"{missing}; wrote {png}"));
            return new Row(name, "fmnist", nfe, 1000 * seconds / n, "FD", "—", "—", DiffusionCli.Inv($"N = {n}; {missing}"));
        }
        using var clf = Classifier.Load(run.ClassifierPath);
        var (report, samples) = ProgressView.Stages(console, progress => ImageEvaluation.Evaluate(loaded, DiffusionCli.Evaluator(clf, run.DataDir), n, options,
            progress: EvalCommand.ImageProgress(console, progress, DiffusionCli.Inv($"sampling {n:N0} images"))));
        SampleCommand.WriteGrid(png, samples, loaded.Crop);
        string json = Path.Combine(run.OutDir, fileStem + ".json");
        File.WriteAllText(json, EvaluationJson.Of(modelPath, report));
        console.Write(EvalCommand.Table(modelPath, report));
        console.MarkupLine(Markup.Escape($"wrote {png} and {json}"));
        var m = report.Metrics;
        return new Row(name, "fmnist", report.Nfe, report.MsPerSample, "FD", DiffusionCli.Inv($"{m.Fd:F3}"), DiffusionCli.Inv($"{report.Floor:F3}"),
            DiffusionCli.Inv($"N = {n} (floor at the same N); precision {m.Precision:F2}, recall {m.Recall:F2}, class entropy {m.Classes.NormalisedEntropy:F3}"));
    }

    /// <summary>Why the Fashion-MNIST test set cannot be read from <paramref name="dataDir"/>, or null when it can.</summary>
    private static string? FashionTestSetMissing(string dataDir)
    {
        try
        {
            FashionMnist.Load(FashionSplit.Test, dataDir, limit: 1);
            FashionMnist.Load(FashionSplit.Train, dataDir, limit: 1);
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    private static Table Summary(IEnumerable<Row> rows)
    {
        var t = new Table { Title = new TableTitle("quickstart") }
            .AddColumn("model").AddColumn("data").AddColumn(new TableColumn("NFE").RightAligned())
            .AddColumn(new TableColumn("ms/sample").RightAligned()).AddColumn("metric")
            .AddColumn(new TableColumn("score").RightAligned()).AddColumn(new TableColumn("floor").RightAligned()).AddColumn("notes");
        foreach (var r in rows)
            t.AddRow(Markup.Escape(r.Model), Markup.Escape(r.Data), r.Nfe > 0 ? r.Nfe.ToString(System.Globalization.CultureInfo.InvariantCulture) : "—",
                double.IsNaN(r.MsPerSample) ? "—" : DiffusionCli.Inv($"{r.MsPerSample:F3}"), Markup.Escape(r.Metric), r.Score, r.Floor, Markup.Escape(r.Notes));
        return t;
    }
}
