using System.Buffers.Binary;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

/// <summary>Convolution weights are [Cout, kh, kw, Cin] in memory and OIHW in every checkpoint, training state included.</summary>
public class CheckpointLayoutTests
{
    [Test]
    public void AKnownConvolutionIsWrittenAsOihwElementByElement()
    {
        using var dir = new TempDir();
        var config = new ClassifierConfig(8, 2, [3], 4, 2, Groups: 1);
        using var model = new Classifier(config, new Generator(0));
        var w = model.Stages[0].Layers[0].Conv.Weight;
        const int O = 3, K = 3, I = 2;
        float Value(int o, int y, int x, int i) => o * 1000 + y * 100 + x * 10 + i;
        var mem = new float[O * K * K * I];
        for (int o = 0; o < O; o++)
            for (int y = 0; y < K; y++)
                for (int x = 0; x < K; x++)
                    for (int i = 0; i < I; i++)
                        mem[((o * K + y) * K + x) * I + i] = Value(o, y, x, i);
        using (var scope = Tensor.Scope()) Parameter.CopyInto(w, Tensor.FromSpan(mem, w.Shape, w.Device));
        string path = dir.File("clf.safetensors");
        model.Save(path);

        var header = SafeTensors.ReadHeader(path);
        Assert.That(header.Metadata[CheckpointLayout.ConvLayoutKey], Is.EqualTo("OIHW"));
        var info = header.Tensors.Single(t => t.Name == "stages.0.conv1.weight");
        Assert.That(info.Shape, Is.EqualTo(new long[] { O, I, K, K }));
        var bytes = File.ReadAllBytes(path).AsSpan((int)(header.DataStart + info.Begin), O * I * K * K * 4);
        for (int o = 0; o < O; o++)
            for (int i = 0; i < I; i++)
                for (int y = 0; y < K; y++)
                    for (int x = 0; x < K; x++)
                    {
                        int at = ((o * I + i) * K + y) * K + x;
                        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(at * 4, 4)), Is.EqualTo(Value(o, y, x, i)), $"[{o}, {i}, {y}, {x}]");
                    }

        using var loaded = Classifier.Load(path);
        Assert.That(loaded.Stages[0].Layers[0].Conv.Weight.ToArray(), Is.EqualTo(mem), "read back into [Cout, kh, kw, Cin]");
    }

    [Test]
    public void AUNetRoundTripsWithEveryConvolutionTransposedInTheFile()
    {
        using var dir = new TempDir();
        using var net = new UNet(TinyModels.TinyUNet, new Generator(3));
        string path = dir.File("unet.safetensors");
        ModelFactory.Save(path, net);

        var header = SafeTensors.ReadHeader(path);
        var convs = CheckpointLayout.ConvWeightNames(net);
        Assert.That(convs, Does.Contain("conv_in.weight").And.Contain("conv_out.weight").And.Contain("down.0.conv1.weight"));
        foreach (var (name, p) in net.NamedParameters())
        {
            var s = p.Shape.ToArray();
            long[] expected = convs.Contains(name) ? [s[0], s[3], s[1], s[2]] : s.Select(d => (long)d).ToArray();
            Assert.That(header.Tensors.Single(t => t.Name == name).Shape, Is.EqualTo(expected), name);
        }

        using var loaded = ModelFactory.Load(path);
        var back = loaded.Model.StateDict();
        foreach (var (name, p) in net.NamedParameters())
            Assert.That(back[name].ToArray(), Is.EqualTo(p.ToArray()), name);
    }

    [Test]
    public void TrainingStateOfConvolutionsIsStoredOihwAndResumesBitForBit()
    {
        using var dir = new TempDir();
        var options = new TrainerOptions { Steps = 6, BatchSize = 4, Lr = 2e-3f, WarmupSteps = 2, CheckpointEvery = 0, Seed = 3 };
        var full = new List<float>();
        using (var a = new EdmTrainer(new UNet(TinyModels.TinyUNet, new Generator(1)), TinyModels.TinyImages(), options))
        {
            a.Run(progress: p => full.Add((float)p["loss"]));
        }

        var losses = new List<float>();
        using (var b = new EdmTrainer(new UNet(TinyModels.TinyUNet, new Generator(1)), TinyModels.TinyImages(), options with { Steps = 3 }, dir.Path))
            b.Run(progress: p => losses.Add((float)p["loss"]));
        string path = dir.File(EdmTrainer.CheckpointFile);
        var header = SafeTensors.ReadHeader(path);
        using (var probe = new UNet(TinyModels.TinyUNet, new Generator(1)))
        {
            int convIn = probe.NamedParameters().Select(p => p.Name).ToList().IndexOf("conv_in.weight");
            long[] oihw = [8, 1, 3, 3];
            Assert.That(header.Tensors.Single(t => t.Name == "conv_in.weight").Shape, Is.EqualTo(oihw));
            Assert.That(header.Tensors.Single(t => t.Name == "train.weights.conv_in.weight").Shape, Is.EqualTo(oihw));
            Assert.That(header.Tensors.Single(t => t.Name == $"train.adam.{convIn}.exp_avg").Shape, Is.EqualTo(oihw));
            Assert.That(header.Tensors.Single(t => t.Name == $"train.adam.{convIn}.exp_avg_sq").Shape, Is.EqualTo(oihw));
        }

        using var c = EdmTrainer.Resume(path, TinyModels.TinyImages(), steps: 6);
        c.Run(progress: p => losses.Add((float)p["loss"]));
        Assert.That(losses, Is.EqualTo(full), "Adam moments and weights come back in memory layout");
    }

    [Test]
    public void EveryCommittedModelIsAReleaseCheckpointThatLoads()
    {
        var files = Directory.GetFiles(RepoFiles.ModelsDir(), "*.safetensors");
        Assert.That(files.Select(Path.GetFileName), Does.Contain("fmnist-classifier.safetensors"));
        foreach (var path in files)
        {
            var header = SafeTensors.ReadHeader(path);
            using var loaded = ModelFactory.Load(path);
            var convs = CheckpointLayout.ConvWeightNames(loaded.Model);
            if (convs.Count > 0) Assert.That(header.Metadata[CheckpointLayout.ConvLayoutKey], Is.EqualTo("OIHW"), path);
            Assert.That(CheckpointKind.Of(path).IsTraining, Is.False, path);
            Assert.That(header.Tensors.Select(t => t.Name).Concat(header.Metadata.Keys), Has.None.StartsWith(ModelFactory.TrainingPrefix), path);
            // F32 bit for bit, or the whole file rounded to F16 by `dk export --dtype f16`; never a mixture.
            Assert.That(header.Tensors.Select(t => t.DType).Distinct().ToArray(), Is.EqualTo(new[] { DType.F32 }).Or.EqualTo(new[] { DType.F16 }), path);
            Assert.That(header.Tensors.Select(t => t.Name), Is.EquivalentTo(loaded.Model.StateDict().Keys), "the sampling weights and nothing else: " + path);
        }
    }
}
