using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

public class MlpTests
{
    [Test]
    public void ShapesParameterNamesAndCount()
    {
        using var net = new Mlp(new MlpConfig(), new Generator(1));
        using var _ = Tensor.Scope();
        var y = net.Forward(Tensor.Zeros([5, 2]), Tensor.Zeros([5]), null);
        Assert.That(y.Shape, Is.EqualTo(new Shape(5, 2)));
        Assert.That(net.SampleShape, Is.EqualTo(new Shape(2)));
        Assert.That(net.NumClasses, Is.Zero);
        Assert.That(net.StateDict().Keys, Is.EqualTo(new[]
        {
            "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
            "time.0.weight", "time.1.weight", "time.2.weight", "out.weight", "out.bias",
        }));
        // Three hidden layers of 128 (2→128→128→128→2) plus a 32→128 noise projection per layer.
        long expected = (2 * 128 + 128) + 2 * (128 * 128 + 128) + 3 * 32 * 128 + (128 * 2 + 2);
        Assert.That(net.ParameterCount, Is.EqualTo(expected));
    }

    [Test]
    public void OutputDependsOnNoiseLevelAndLabel()
    {
        using var net = new Mlp(new MlpConfig(NumClasses: 3), new Generator(2));
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([0.3f, -0.2f, 0.3f, -0.2f, 0.3f, -0.2f, 0.3f, -0.2f], 4, 2);
        var y = net.Forward(x, Tensor.FromArray([0f, 0.5f, 0f, 0f]), Tensor.FromArray([0f, 0f, 1f, -1f])).ToArray();
        Assert.That(y[2..4], Is.Not.EqualTo(y[0..2]), "c_noise changes the output");
        Assert.That(y[4..6], Is.Not.EqualTo(y[0..2]), "the label changes the output");
        Assert.That(y[6..8], Is.Not.EqualTo(y[0..2]), "label −1 is its own (unconditional) branch");
        Assert.Throws<ArgumentException>(() => net.Forward(x, Tensor.Zeros([4]), Tensor.FromArray([0f, 3f, 0f, 0f])));
        using var uncond = new Mlp(new MlpConfig());
        Assert.Throws<ArgumentException>(() => uncond.Forward(x, Tensor.Zeros([4]), Tensor.Zeros([4])));
        Assert.Throws<ArgumentException>(() => uncond.Forward(x, Tensor.Zeros([3]), null));
    }

    [Test]
    public void GradientsReachEveryParameter()
    {
        using var net = new Mlp(new MlpConfig(Hidden: 16, NumClasses: 2), new Generator(3));
        using var _ = Tensor.Scope();
        var loss = F.Sum(F.Square(net.Forward(new Generator(4).Normal([6, 2]), Tensor.FromArray([-1f, 0f, 0.5f, 1f, -0.3f, 0.2f]), Tensor.FromArray([0f, 1f, -1f, 0f, 1f, 1f]))));
        loss.Backward();
        foreach (var (name, p) in net.NamedParameters())
            Assert.That(p.Grad!.ToArray().Any(g => g != 0), $"{name} gets a gradient");
    }

    [Test]
    public void ConfigJsonRoundTripsAndRejectsBadValues()
    {
        var c = new MlpConfig(Hidden: 64, Layers: 4, TimeFeatures: 16, TimeScale: 8, NumClasses: 5);
        string json = c.ToJson();
        Assert.That(json, Does.Contain("\"time_features\":16"));
        Assert.That(MlpConfig.FromJson(json), Is.EqualTo(c));
        Assert.That(MlpConfig.FromJson("{\"hidden\":32}"), Is.EqualTo(new MlpConfig(Hidden: 32)));
        Assert.Throws<ArgumentException>(() => new Mlp(new MlpConfig(TimeFeatures: 7)));
        Assert.Throws<ArgumentException>(() => new Mlp(new MlpConfig(Layers: 0)));
    }

    [Test]
    public void CheckpointRoundTripThroughModelFactory()
    {
        using var dir = new TempDir();
        string path = dir.File("mlp.safetensors");
        using var net = new Mlp(new MlpConfig(Hidden: 32, NumClasses: 2), new Generator(5));
        using var scope = Tensor.Scope();
        ModelFactory.Save(path, net, extraTensors: new Dictionary<string, Tensor> { ["train.extra"] = Tensor.Ones([3]) },
            extraMetadata: new Dictionary<string, string> { ["train.step"] = "7" });

        var header = SafeTensors.ReadHeader(path);
        Assert.That(header.Metadata["model"], Is.EqualTo("mlp"));
        Assert.That(MlpConfig.FromJson(header.Metadata["config"]), Is.EqualTo(net.Config));

        using var loaded = ModelFactory.Load(path);
        Assert.That(loaded.Kind, Is.EqualTo("mlp"));
        Assert.That(loaded.Metadata["train.step"], Is.EqualTo("7"));
        var copy = (Mlp)loaded.Model;
        Assert.That(copy.Config, Is.EqualTo(net.Config));
        foreach (var (name, p) in net.NamedParameters())
            Assert.That(copy.StateDict()[name].ToArray(), Is.EqualTo(p.ToArray()), name);
        var x = new Generator(6).Normal([4, 2]);
        var c = Tensor.FromArray([0.1f, -0.4f, 0.2f, 0.9f]);
        var l = Tensor.FromArray([0f, 1f, -1f, 1f]);
        Assert.That(loaded.Net.Forward(x, c, l).ToArray(), Is.EqualTo(net.Forward(x, c, l).ToArray()));
    }

    [Test]
    public void SaveCanStoreOtherWeightsUnderTheModelNames()
    {
        using var dir = new TempDir();
        string path = dir.File("ema.safetensors");
        using var net = new Mlp(new MlpConfig(Hidden: 8), new Generator(7));
        using var other = new Mlp(new MlpConfig(Hidden: 8), new Generator(8));
        ModelFactory.Save(path, net, weights: other.StateDict());
        using var loaded = ModelFactory.Load(path);
        Assert.That(loaded.Model.StateDict()["out.weight"].ToArray(), Is.EqualTo(other.StateDict()["out.weight"].ToArray()));
        using var wrong = new Mlp(new MlpConfig(Hidden: 9));
        Assert.Throws<ArgumentException>(() => ModelFactory.Save(path, net, weights: wrong.StateDict()));
    }

    [Test]
    public void LoadErrorsNameTheFileAndTheProblem()
    {
        using var dir = new TempDir();
        using var scope = Tensor.Scope();
        string plain = dir.File("plain.safetensors");
        SafeTensors.Save(plain, new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros([2]) });
        var e = Assert.Throws<SafeTensorsFormatException>(() => ModelFactory.Load(plain));
        Assert.That(e!.Message, Does.StartWith(plain).And.Contain("not a model checkpoint"));

        string unknown = dir.File("unknown.safetensors");
        SafeTensors.Save(unknown, new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["model"] = "gan", ["config"] = "{}" });
        e = Assert.Throws<SafeTensorsFormatException>(() => ModelFactory.Load(unknown));
        Assert.That(e!.Message, Does.Contain("unknown model kind 'gan'"));

        string missing = dir.File("missing.safetensors");
        SafeTensors.Save(missing, new Dictionary<string, Tensor> { ["out.bias"] = Tensor.Zeros([2]) },
            new Dictionary<string, string> { ["model"] = "mlp", ["config"] = new MlpConfig(Hidden: 4).ToJson() });
        e = Assert.Throws<SafeTensorsFormatException>(() => ModelFactory.Load(missing));
        Assert.That(e!.Message, Does.Contain("missing keys").And.Contain("layers.0.weight"));
    }
}
