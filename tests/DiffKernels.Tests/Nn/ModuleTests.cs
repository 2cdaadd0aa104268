using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Nn;

public class ModuleTests
{
    private sealed class Block : Module, ILayer
    {
        public Block(int c, Generator gen)
        {
            Conv1 = RegisterModule("conv1", new Linear(c, c, gen: gen));
            Norm = RegisterModule("norm", new LayerNorm(c));
            Scale = RegisterParameter("scale", Tensor.Ones([1]));
        }

        public Linear Conv1 { get; }

        public LayerNorm Norm { get; }

        public Tensor Scale { get; }

        public Tensor Forward(Tensor x) => Norm.Forward(Conv1.Forward(x)) * Scale;
    }

    private sealed class Net : Module
    {
        public Net(ulong seed, int c = 3)
        {
            var gen = new Generator(seed);
            Stem = RegisterModule("stem", new Linear(2, c, gen: gen));
            Down = RegisterModule("down", new ModuleList<Block>(new Block(c, gen), new Block(c, gen)));
            Head = RegisterModule("head", new Sequential(Activation.Silu(), new Linear(c, 1, bias: false, gen: gen), new Dropout(0.1f, gen)));
        }

        public Linear Stem { get; }

        public ModuleList<Block> Down { get; }

        public Sequential Head { get; }

        public Tensor Forward(Tensor x)
        {
            var h = Stem.Forward(x);
            foreach (var b in Down) h = b.Forward(h);
            return Head.Forward(h);
        }
    }

    private sealed class Bad : Module
    {
        public void Add(string name) => RegisterParameter(name, Tensor.Zeros([1]));

        public void AddModule(string name) => RegisterModule(name, new LayerNorm(2));
    }

    [Test]
    public void NamesAreDottedAndInRegistrationOrder()
    {
        // Like PyTorch: a module's own parameters come before its children's.
        using var net = new Net(1);
        Assert.That(net.NamedParameters().Select(p => p.Name), Is.EqualTo(new[]
        {
            "stem.weight", "stem.bias",
            "down.0.scale", "down.0.conv1.weight", "down.0.conv1.bias", "down.0.norm.weight", "down.0.norm.bias",
            "down.1.scale", "down.1.conv1.weight", "down.1.conv1.bias", "down.1.norm.weight", "down.1.norm.bias",
            "head.1.weight",
        }));
        Assert.That(net.StateDict().Keys, Is.EqualTo(net.NamedParameters().Select(p => p.Name)));
        Assert.That(net.ParameterCount, Is.EqualTo(2 * 3 + 3 + 2 * (9 + 3 + 3 + 3 + 1) + 3));
        Assert.That(net.Children().Select(c => c.Name), Is.EqualTo(new[] { "stem", "down", "head" }));
        Assert.That(net.Parameters().All(p => p.RequiresGrad && p.IsLeaf));
    }

    [Test]
    public void SharedParametersAppearOnce()
    {
        using var net = new Net(1);
        var tied = new Sequential(net.Stem, net.Stem);
        Assert.That(tied.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "0.weight", "0.bias" }));
    }

    [Test]
    public void StateDictRoundTripMakesModelsAgree()
    {
        using var scope = Tensor.Scope();
        using var a = new Net(1);
        using var b = new Net(2);
        var x = Tensor.FromArray([0.3f, -0.7f, 1.1f, 0.2f], 2, 2);
        a.Eval();
        b.Eval();
        Assert.That(b.Forward(x).ToArray(), Is.Not.EqualTo(a.Forward(x).ToArray()));
        var bWeight = b.Stem.Weight;
        b.LoadStateDict(a.StateDict());
        Assert.That(b.Stem.Weight, Is.SameAs(bWeight), "loading copies values into the existing tensors");
        Assert.That(b.Forward(x).ToArray(), Is.EqualTo(a.Forward(x).ToArray()));
        foreach (var (name, t) in b.StateDict())
            Assert.That(t.ToArray(), Is.EqualTo(a.StateDict()[name].ToArray()), name);
    }

    [Test]
    public void LoadStateDictReportsMissingUnexpectedAndMismatchedNames()
    {
        using var scope = Tensor.Scope();
        using var net = new Net(1);
        var state = net.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var stemBefore = net.Stem.Weight.ToArray();
        state.Remove("down.1.scale");
        state["down.7.scale"] = Tensor.Ones([1]);
        state["stem.weight"] = Tensor.Zeros([4, 2]);
        var ex = Assert.Throws<ArgumentException>(() => net.LoadStateDict(state))!;
        Assert.That(ex.Message, Does.Contain("missing keys: down.1.scale"));
        Assert.That(ex.Message, Does.Contain("unexpected keys: down.7.scale"));
        Assert.That(ex.Message, Does.Contain("shape mismatch for 'stem.weight': checkpoint [4, 2], model [3, 2]"));
        Assert.That(net.Stem.Weight.ToArray(), Is.EqualTo(stemBefore), "nothing is copied when any check fails");

        // Non-strict ignores missing/unexpected names but never a shape mismatch.
        Assert.Throws<ArgumentException>(() => net.LoadStateDict(state, strict: false));
        state["stem.weight"] = Tensor.Zeros([3, 2]);
        net.LoadStateDict(state, strict: false);
        Assert.That(net.Stem.Weight.ToArray(), Is.All.EqualTo(0f));
    }

    [Test]
    public void TrainAndEvalPropagateToDescendants()
    {
        using var net = new Net(1);
        var all = new Module[] { net, net.Stem, net.Down, net.Down[1], net.Down[1].Norm, net.Head };
        Assert.That(all.All(m => m.Training));
        net.Eval();
        Assert.That(all.All(m => !m.Training));
        net.Train();
        Assert.That(all.All(m => m.Training));
        net.Down[0].Train(false);
        Assert.That(net.Down[0].Norm.Training, Is.False);
        Assert.That(net.Down[1].Training, Is.True);

        // A child registered later takes its parent's mode.
        using var bad = new Bad();
        bad.Eval();
        bad.AddModule("late");
        Assert.That(bad.Children().Single().Module.Training, Is.False);
    }

    [Test]
    public void ParametersOutliveTheScopeTheyWereBuiltIn()
    {
        Net net;
        using (var scope = Tensor.Scope())
        {
            net = new Net(1);
            Assert.That(scope.Count, Is.EqualTo(0), "construction leaves nothing in the caller's scope");
        }
        Assert.That(net.Parameters().Any(p => p.IsDisposed), Is.False);
        using (Tensor.Scope())
        {
            var y = net.Forward(Tensor.Ones([1, 2]));
            y.Sum().Backward();
        }
        Assert.That(net.Parameters().All(p => p.Grad is { IsDisposed: false }), "gradients live with their parameters");
        net.ZeroGrad();
        Assert.That(net.Parameters().All(p => p.Grad == null));
        net.Dispose();
        Assert.That(net.Parameters().All(p => p.IsDisposed));
    }

    [Test]
    public void RegistrationRejectsBadNames()
    {
        using var m = new Bad();
        m.Add("w");
        Assert.Throws<ArgumentException>(() => m.Add("w"));
        Assert.Throws<ArgumentException>(() => m.AddModule("w"));
        Assert.Throws<ArgumentException>(() => m.Add("a.b"));
        Assert.Throws<ArgumentException>(() => m.Add(""));
        using var scope = Tensor.Scope();
        var computed = Tensor.Ones([2]).RequireGrad() * 2f;
        Assert.Throws<ArgumentException>(() => Parameter.From(computed));
        Assert.Throws<ArgumentException>(() => new Sequential(new Bad()));
    }
}
