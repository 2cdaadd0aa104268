using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

// The optional GAN head (Dmd2Options.Gan): a classifier on the fake denoiser's bottleneck, trained with the fake network
// on real data against the student's samples, and a small adversarial term in the student's update. The real data is
// also what DDIL's forward-diffused source reads.
public sealed partial class Dmd2Distiller
{
    private Dmd2GanHead? _head;
    private AdamW? _headAdam;
    private IDataSource? _data;
    private Generator? _dataStream;
    private Generator? _realNoise;

    /// <summary>The GAN head, when the run has one.</summary>
    public Dmd2GanHead? GanHead => _head;

    /// <summary>
    /// Registers the real data, which the GAN head and DDIL read (<paramref name="ddil"/>: the run trains on DDIL's
    /// inputs), and builds the head on the fake network's bottleneck with its state.
    /// </summary>
    private void AddData(IDataSource? data, bool ddil)
    {
        if (!Options.Gan && !ddil)
        {
            if (data != null) throw new ArgumentException("DMD2: real data is only read by the GAN head; without it DMD2 is data-free (enable the GAN head or drop the data)");
            return;
        }
        if (data == null)
            throw new ArgumentException(Options.Gan ? "DMD2: the GAN head needs real data (--data); without the head DMD2 is data-free"
                : "DDIL on DMD2: the forward-diffused data source needs real data (the teacher's)");
        var net = Fake as IBottleneckFeatures;
        if (Options.Gan && net == null) throw new ArgumentException($"DMD2: the GAN head reads the fake network's bottleneck, which a {Fake.GetType().Name} does not expose");
        if (data.SampleShape != _fakeNet.SampleShape || data.NumClasses != _fakeNet.NumClasses)
            throw new ArgumentException($"DMD2: the data {data.Name} ({data.SampleShape}, {data.NumClasses} classes) does not match the teacher's samples ({_fakeNet.SampleShape}, {_fakeNet.NumClasses} classes)");
        if (Teacher.DataSpec is { } spec && spec != data.Name)
            throw new ArgumentException($"DMD2: the {(Options.Gan ? "GAN head's" : "DDIL")} data {data.Name} is not the teacher's ({spec})");
        _data = data;
        (_dataStream, _realNoise) = TrainOn(data);
        if (!Options.Gan) return;
        _head = new Dmd2GanHead(Dmd2GanHead.FeaturesOf(net!, Device), new Generator(Options.Seed), Device);
        _headAdam = new AdamW(_head.Parameters(), Options.FakeLr, Options.Beta1, Options.Beta2, Options.Eps, Options.WeightDecay);
        State.Add(new ModulePart(CheckpointKeys.GanHead, _head));
        State.Add(new AdamPart(CheckpointKeys.GanHeadAdam, _headAdam, _head));
        _head.Eval();
    }

    /// <summary>
    /// The student's adversarial loss, weight·mean softplus(−l(x_g noised)), recorded through x_g (and through the fake
    /// network and the head, whose gradients the caller discards).
    /// </summary>
    private Tensor GanGeneratorLoss(Tensor xg, Tensor? labels)
    {
        var sigma = Shard.RowsOf(_grid.Sample(Options.BatchSize, _realNoise!, Device, Options.MinLevelFraction, Options.MaxLevelFraction));
        var logits = _head!.Logits((IBottleneckFeatures)Fake, Teacher.Edm.SigmaData, xg, sigma, Shard.Normal(_realNoise!, _fakeNet.SampleShape, Device), labels);
        return F.MulScalar(F.GanGeneratorLoss(logits), Options.GanGeneratorWeight);
    }

    /// <summary>
    /// The head's loss on a real batch and on SG(x_g), weight·(mean softplus(−l_real) + mean softplus(l_fake)), both
    /// noised at distribution-matching levels: recorded through the head and the fake network.
    /// </summary>
    private Tensor GanHeadLoss(Tensor xg, Tensor? labels)
    {
        var net = (IBottleneckFeatures)Fake;
        // The real batch and every draw cover the whole batch on every rank; a rank computes on its rows (x_g holds them).
        var real = _data!.Batch(Step, Options.BatchSize, _dataStream!, Device);
        Tensor fake;
        using (Tensor.NoGrad()) fake = F.Copy(xg);
        var shape = _fakeNet.SampleShape;
        var realSigma = Shard.RowsOf(_grid.Sample(Options.BatchSize, _realNoise!, Device, Options.MinLevelFraction, Options.MaxLevelFraction));
        var realLogits = _head!.Logits(net, Teacher.Edm.SigmaData, Shard.RowsOf(real.X), realSigma, Shard.Normal(_realNoise!, shape, Device), Shard.Rows(real.Labels));
        var fakeSigma = Shard.RowsOf(_grid.Sample(Options.BatchSize, _realNoise!, Device, Options.MinLevelFraction, Options.MaxLevelFraction));
        var fakeLogits = _head.Logits(net, Teacher.Edm.SigmaData, fake, fakeSigma, Shard.Normal(_realNoise!, shape, Device), labels);
        return F.MulScalar(F.GanDiscriminatorLoss(realLogits, fakeLogits), Options.GanHeadWeight);
    }
}
