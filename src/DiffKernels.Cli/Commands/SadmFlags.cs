using System.CommandLine;
using DiffKernels.Diffusion.Training.Sadm;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The --sadm flags of dk train and dk finetune: SADM's structure term and its discriminator (see <see cref="SadmOptions"/>);
/// the --sadm-* settings need --sadm, and a resumed run keeps the ones it started with.
/// </summary>
internal sealed class SadmFlags
{
    private static readonly SadmOptions Defaults = new();

    /// <summary>--sadm.</summary>
    public Option<bool> Sadm { get; } = new("--sadm") { Description = "Add SADM's structure term: the batch structure of the denoiser's predictions must match the real batch's, as an adversarial encoder judges it" };

    /// <summary>--sadm-lambda.</summary>
    public Option<double> Lambda { get; } = new("--sadm-lambda") { Description = "SADM: weight λ of the structure term", DefaultValueFactory = _ => Defaults.Lambda };

    /// <summary>--sadm-warmup.</summary>
    public Option<int> Warmup { get; } = new("--sadm-warmup") { Description = "SADM: steps over which λ ramps up from 0", DefaultValueFactory = _ => Defaults.WarmupSteps };

    /// <summary>--sadm-distance.</summary>
    public Option<string> Distance { get; } = new("--sadm-distance") { Description = "SADM: kl (row distributions of the affinities) or squared (the affinities themselves)", DefaultValueFactory = _ => "kl" };

    /// <summary>--sadm-tau.</summary>
    public Option<double> Temperature { get; } = new("--sadm-tau") { Description = "SADM: temperature of the row distributions", DefaultValueFactory = _ => Defaults.Temperature };

    /// <summary>--sadm-features.</summary>
    public Option<int> Features { get; } = new("--sadm-features") { Description = "SADM: dimension of the encoder's features", DefaultValueFactory = _ => Defaults.Features };

    /// <summary>--sadm-encoder-lr.</summary>
    public Option<float> EncoderLr { get; } = new("--sadm-encoder-lr") { Description = "SADM: the encoder's AdamW learning rate", DefaultValueFactory = _ => Defaults.EncoderLr };

    /// <summary>--sadm-weight-decay.</summary>
    public Option<float> WeightDecay { get; } = new("--sadm-weight-decay") { Description = "SADM: the encoder's weight decay", DefaultValueFactory = _ => Defaults.WeightDecay };

    /// <summary>--sadm-sigma.</summary>
    public Option<string> Sigma { get; } = new("--sadm-sigma") { Description = "SADM: shared (one σ per step for the structure batch) or per-sample", DefaultValueFactory = _ => "shared" };

    /// <summary>--sadm-weighting.</summary>
    public Option<string> Weighting { get; } = new("--sadm-weighting") { Description = "SADM: cskip (weight the term by c_skip(σ)) or none", DefaultValueFactory = _ => "cskip" };

    /// <summary>Every flag, --sadm first.</summary>
    public Option[] All => [Sadm, Lambda, Warmup, Distance, Temperature, Features, EncoderLr, WeightDecay, Sigma, Weighting];

    /// <summary>The SADM settings the flags give, or null without --sadm (where any --sadm-* flag is refused).</summary>
    public SadmOptions? Options(ParseResult parse)
    {
        if (!parse.GetValue(Sadm))
        {
            var stray = All.Skip(1).Where(o => RunCommand.Given(parse, o)).Select(o => o.Name).ToList();
            if (stray.Count > 0) throw new ArgumentException($"{string.Join(", ", stray)} set SADM's structure term; add --sadm");
            return null;
        }
        return new SadmOptions
        {
            Lambda = parse.GetValue(Lambda),
            WarmupSteps = parse.GetValue(Warmup),
            Distance = parse.GetValue(Distance) switch
            {
                "kl" => SadmDistance.Kl,
                "squared" => SadmDistance.Squared,
                var d => throw new ArgumentException($"--sadm-distance '{d}': expected kl or squared"),
            },
            Temperature = parse.GetValue(Temperature),
            Features = parse.GetValue(Features),
            EncoderLr = parse.GetValue(EncoderLr),
            WeightDecay = parse.GetValue(WeightDecay),
            SharedSigma = parse.GetValue(Sigma) switch
            {
                "shared" => true,
                "per-sample" => false,
                var s => throw new ArgumentException($"--sadm-sigma '{s}': expected shared or per-sample"),
            },
            CSkipWeighting = parse.GetValue(Weighting) switch
            {
                "cskip" => true,
                "none" => false,
                var w => throw new ArgumentException($"--sadm-weighting '{w}': expected cskip or none"),
            },
        };
    }

    /// <summary>The settings in words, for the line that starts a run.</summary>
    public static string Describe(SadmOptions o) => DiffusionCli.Inv(
        $"with SADM: λ {o.Lambda} (warm-up {o.WarmupSteps} steps{(o.CSkipWeighting ? ", weighted by c_skip(σ)" : "")}), {(o.Distance == SadmDistance.Kl ? $"KL of row distributions at τ {o.Temperature}" : "squared affinity difference")}, {(o.SharedSigma ? "one σ per step" : "one σ per sample")}, encoder {string.Join("-", o.EncoderWidths)} → {o.Features}, AdamW {o.EncoderLr} (weight decay {o.WeightDecay})");
}
