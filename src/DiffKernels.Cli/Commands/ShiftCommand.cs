using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk shift --model STUDENT [--teacher T]`: the covariate shift of a few-step student (see <see cref="CovariateShift"/>):
/// at each of its levels σ_k, the distance between its own states and held-out data forward-diffused to σ_k, and the
/// same for the teacher's trajectory from the same noises (toys: sliced Wasserstein against fresh data; Fashion-MNIST:
/// Fréchet distance in the metric classifier's features against the test images). A table, and optionally a JSON file
/// and a PNG plot (x: σ, log scale; dark blue the student, orange the teacher; y: the distance, log scale).
/// </summary>
internal static class ShiftCommand
{
    // Keys the held-out toy sample apart from the noises of the walks.
    private const ulong ToyDataKey = 0x7E57_DA7AUL;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A few-step student checkpoint (records its σ levels: dk distill pd, dmd2 or ddil)", Required = true };
        var teacher = new Option<string?>("--teacher") { Description = "The teacher (default: the one the student records)" };
        var data = new Option<string?>("--data") { Description = "Data to compare with: toy:NAME or fmnist (default: what the student records)" };
        var dataDir = DiffusionCli.FashionDirOption();
        var n = new Option<int?>("--n") { Description = "Samples per level (default: 10,000 points or 2,000 images)" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the noises and the held-out toy sample", DefaultValueFactory = _ => 0UL };
        var substeps = new Option<int>("--teacher-substeps") { Description = "Teacher Euler steps per student step on its trajectory", DefaultValueFactory = _ => 8 };
        var classifier = new Option<string>("--classifier") { Description = "Metric classifier for images", DefaultValueFactory = _ => EvalCommand.DefaultClassifier };
        var json = new Option<string?>("--json") { Description = "Write the rows as JSON" };
        var png = new Option<string?>("--png") { Description = "Write the plot (student dark blue, teacher orange; log-log)" };
        var force = OutputGuard.ForceOption("existing --png and --json files");
        var device = DeviceOption.Create();
        var cmd = new Command("shift", "Covariate shift of a few-step student: its own states against forward-diffused data at each of its levels, beside the teacher's")
        {
            model, teacher, data, dataDir, n, seed, substeps, classifier, json, png, force, device,
        };
        cmd.SetAction(parse => DiffusionCli.Run("shift", parse.InvocationConfiguration.Error, () =>
        {
            string path = parse.GetValue(model)!;
            if (!File.Exists(path)) throw new ArgumentException($"--model {path} does not exist");
            CheckpointKind.RequireModel(path, "dk shift --model", ModelRole.Student);
            OutputGuard.Distinct((parse.GetValue(png), "--png"), (parse.GetValue(json), "--json"));
            string? pngOut = OutputGuard.File(parse.GetValue(png), "--png", parse.GetValue(force));
            string? jsonOut = OutputGuard.File(parse.GetValue(json), "--json", parse.GetValue(force));
            int teacherSubsteps = parse.GetValue(substeps);
            if (teacherSubsteps < 1) throw new ArgumentException($"--teacher-substeps {teacherSubsteps} must be ≥ 1");
            using var on = DeviceOption.Open(parse, device);
            using var loaded = ModelFactory.Load(path, on.Device);
            var net = loaded.Model as INoiseNet ?? throw new ArgumentException($"--model {path} holds a {loaded.Kind}, not a denoiser");
            var sampler = SamplerDefaults.Of(loaded.Metadata);
            if (sampler.Sigmas == null) throw new ArgumentException($"--model {path} records no σ levels; dk shift measures few-step students (dk distill pd, dmd2 or ddil)");
            string teacherPath = parse.GetValue(teacher) ?? CheckpointKind.Recorded(loaded.Metadata, "teacher")
                ?? throw new ArgumentException($"{path} does not record its teacher; pass --teacher");
            if (!File.Exists(teacherPath)) throw new ArgumentException($"teacher {teacherPath} does not exist; pass --teacher");
            CheckpointKind.RequireModel(teacherPath, "dk shift --teacher", ModelRole.Teacher);
            string spec = parse.GetValue(data) ?? CheckpointKind.DataSpec(loaded.Metadata)
                ?? throw new ArgumentException($"{path} does not record its data; pass --data");
            int? count = parse.GetValue(n);
            if (count is < 2) throw new ArgumentException($"--n {count} must be ≥ 2");
            ulong s = parse.GetValue(seed);
            using var frozen = FrozenTeacher.Load(teacherPath, on.Device);
            var edm = Edm.FromMetadata(loaded.Metadata);
            IReadOnlyList<ShiftRow> rows;
            string metric;
            if (ToyDataSource.IsToySpec(spec))
            {
                var toy = ToyDataSource.FromSpec(spec).Toy;
                var reference = toy.Sample(count ?? 10_000, new Generator(s ^ ToyDataKey));
                metric = "sliced Wasserstein (256 projections)";
                rows = CovariateShift.Measure(net, edm, sampler, frozen, reference, null, (a, b) => ToyMetrics.SlicedWasserstein(a, b, seed: s), teacherSubsteps, s);
            }
            else if (spec == ImageDataSource.FashionSpec)
            {
                string classifierPath = parse.GetValue(classifier)!;
                if (!File.Exists(classifierPath))
                    throw new ArgumentException($"metric classifier {classifierPath} not found; pass --classifier PATH (train one with dk train-classifier)");
                using var clf = Classifier.Load(classifierPath);
                var evaluator = DiffusionCli.Evaluator(clf, parse.GetValue(dataDir)!);
                var test = FashionMnist.Load(FashionSplit.Test, parse.GetValue(dataDir), count ?? 2000);
                int dim = clf.Config.FeatureDim;
                var shape = net.SampleShape;
                double Fd(float[] a, float[] b)
                {
                    float[] Embed(float[] x)
                    {
                        using var scope = DiffKernels.Tensors.Tensor.Scope();
                        return evaluator.Embed(DiffKernels.Tensors.Tensor.FromSpan(x, [x.Length / (int)shape.Numel, .. shape])).Features;
                    }
                    return FrechetDistance.Compute(Embed(a), Embed(b), dim);
                }
                metric = "Fréchet distance in the metric classifier's features";
                rows = CovariateShift.Measure(net, edm, sampler, frozen, test.Images.ToArray(), test.Labels.ToArray().Select(l => (float)l).ToArray(), Fd, teacherSubsteps, s);
            }
            else
            {
                throw new ArgumentException($"dk shift compares with toys (toy:NAME) and Fashion-MNIST (fmnist); '{spec}' is neither");
            }
            var console = DiffusionCli.Console(parse.InvocationConfiguration.Output);
            var table = new Table { Title = new TableTitle(Markup.Escape($"{Path.GetFileName(path)}: covariate shift against {spec} noised to σ_k ({metric})")) };
            table.AddColumns("k", "σ_k", "student", "teacher", "student / teacher");
            foreach (var r in rows)
                table.AddRow(r.Step.ToString(), DiffusionCli.Inv($"{r.Sigma:G5}"), DiffusionCli.Inv($"{r.Student:F4}"), DiffusionCli.Inv($"{r.Teacher:F4}"), DiffusionCli.Inv($"{r.Student / r.Teacher:F2}"));
            console.Write(table);
            if (pngOut is { } pngPath)
                LinePlot.Save(pngPath, [new LineSeries(rows.Select(r => r.Sigma).ToArray(), rows.Select(r => r.Student).ToArray()),
                    new LineSeries(rows.Select(r => r.Sigma).ToArray(), rows.Select(r => r.Teacher).ToArray())], logX: true);
            if (jsonOut is { } jsonPath)
            {
                var o = new JsonObject
                {
                    ["model"] = path,
                    ["teacher"] = teacherPath,
                    ["data"] = spec,
                    ["metric"] = metric,
                    ["seed"] = s,
                    ["teacher_substeps"] = teacherSubsteps,
                    ["rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
                    {
                        ["step"] = r.Step, ["sigma"] = r.Sigma, ["student"] = r.Student, ["teacher"] = r.Teacher,
                    }).ToArray()),
                };
                File.WriteAllText(jsonPath, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            return 0;
        }));
        return cmd;
    }
}
