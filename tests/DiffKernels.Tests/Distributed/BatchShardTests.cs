using DiffKernels.Diffusion.Training;
using DiffKernels.Distributed;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Distributed;

public class BatchShardTests
{
    [TestCase(6, 3)]
    [TestCase(3, 2)]
    [TestCase(1, 4)]
    public void RanksDrawTheRowsOfTheWholeBatchAndLeaveTheStreamWhereItWouldStand(int rowElements, int worldSize)
    {
        using var scope = Tensor.Scope();
        int batch = 4 * worldSize;
        var whole = new Generator(5, 3);
        var expected = whole.Normal([batch, rowElements]).ToArray();
        for (int rank = 0; rank < worldSize; rank++)
        {
            var g = new Generator(5, 3);
            var shard = new BatchShard(rank, worldSize, batch);
            var rows = shard.Normal(g, [rowElements], Device.Cpu).ToArray();
            Assert.That(rows, Is.EqualTo(expected.AsSpan(shard.Start * rowElements, shard.Count * rowElements).ToArray()));
            Assert.That(g.Offset, Is.EqualTo(whole.Offset));
        }
    }

    [TestCase(0, 5)]
    [TestCase(3, 6)]
    [TestCase(4, 0)]
    public void ARangeOfRowsDrawsThoseRowsOfTheWholeBatch(int start, int count)
    {
        using var scope = Tensor.Scope();
        var whole = new Generator(5, 3);
        var expected = whole.Normal([10, 3]).ToArray();
        var g = new Generator(5, 3);
        var range = BatchShard.Range(start, count, 10);
        if (count > 0) Assert.That(range.Normal(g, [3], Device.Cpu).ToArray(), Is.EqualTo(expected.AsSpan(3 * start, 3 * count).ToArray()));
        Assert.That((range.Start, range.Count, range.Whole), Is.EqualTo((start, count, false)));
        Assert.That(() => BatchShard.Range(8, 3, 10), Throws.ArgumentException.With.Message.Contains("rows [8, 11)"));
    }

    [Test]
    public void ABatchTheRanksDoNotDivideIsRefusedNamingTheFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = new BatchShard(0, 2, 63))!;
        Assert.That(e.Message, Does.Contain("batch 63").And.Contain("--batch"));
    }

    [Test]
    public void TheChecksumSeesAMovedValue()
    {
        using var scope = Tensor.Scope();
        var a = Tensor.FromSpan([1f, 2f, 3f], [3]);
        var b = Tensor.FromSpan([2f, 1f, 3f], [3]);
        Assert.That(Collectives.Checksum([a]), Is.Not.EqualTo(Collectives.Checksum([b])));
        Assert.That(Collectives.Checksum([a]), Is.EqualTo(Collectives.Checksum([Tensor.FromSpan([1f, 2f, 3f], [3])])));
    }
}
