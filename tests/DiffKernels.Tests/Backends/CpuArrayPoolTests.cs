using DiffKernels.Backends.Cpu;

namespace DiffKernels.Tests.Backends;

/// <summary>The CPU buffer pool: reuse by length, the byte bound with least-recently-rented eviction, and its collections.</summary>
public class CpuArrayPoolTests
{
    [Test]
    public void ReturnedArrayIsRentedAgainForItsLength()
    {
        var pool = new CpuArrayPool(1 << 20, long.MaxValue);
        var a = pool.Rent(100);
        pool.Return(a);
        Assert.That(pool.PooledBytes, Is.EqualTo(400));
        Assert.That(pool.Rent(99), Is.Not.SameAs(a));
        Assert.That(pool.Rent(100), Is.SameAs(a));
        Assert.That(pool.PooledBytes, Is.EqualTo(0));
    }

    [Test]
    public void FullPoolDropsTheLengthRentedLeastRecently()
    {
        var pool = new CpuArrayPool(1000, long.MaxValue); // room for 250 floats
        var old = pool.Rent(100);
        var recent = pool.Rent(100);
        var mid = pool.Rent(50);
        var other = pool.Rent(120);
        pool.Return(old);
        pool.Return(recent);
        pool.Return(mid);
        Assert.That(pool.PooledBytes, Is.EqualTo(1000));
        // The 50s were rented after the 100s: making room for 120 floats drops both 100s and keeps the 50.
        pool.Return(other);
        Assert.That(pool.PooledBytes, Is.EqualTo(4 * (50 + 120)));
        Assert.That(pool.Rent(50), Is.SameAs(mid));
        Assert.That(pool.Rent(120), Is.SameAs(other));
        Assert.That(pool.Rent(100), Is.Not.SameAs(old).And.Not.SameAs(recent));
        Assert.That(pool.PooledBytes, Is.EqualTo(0));
    }

    [Test]
    public void ArrayLargerThanTheBoundIsNotKept()
    {
        var pool = new CpuArrayPool(400, long.MaxValue);
        var small = pool.Rent(100);
        pool.Return(small);
        pool.Return(pool.Rent(200));
        Assert.That(pool.PooledBytes, Is.EqualTo(0));
        Assert.That(pool.Rent(100), Is.Not.SameAs(small));
    }

    [Test]
    public void CollectsAfterEveryBudgetOfAllocatedOrDroppedBytes()
    {
        var pool = new CpuArrayPool(0, 1000);
        var a = pool.Rent(200); // 800 bytes allocated
        Assert.That(pool.Collections, Is.EqualTo(0));
        pool.Return(a); // dropped: 1600 ≥ 1000
        Assert.That(pool.Collections, Is.EqualTo(1));
        pool.Trim();
        Assert.That(pool.Collections, Is.EqualTo(2));
    }

    [Test]
    public void TrimEmptiesThePool()
    {
        var pool = new CpuArrayPool(1 << 20, long.MaxValue);
        var a = pool.Rent(10);
        pool.Return(a);
        pool.Trim();
        Assert.That(pool.PooledBytes, Is.EqualTo(0));
        Assert.That(pool.Rent(10), Is.Not.SameAs(a));
    }

    [Test, NonParallelizable]
    public void BackendReleasesItsPool()
    {
        var be = CpuBackend.Instance;
        be.Allocate(1000).Release();
        Assert.That(be.PooledBytes, Is.GreaterThanOrEqualTo(4000));
        be.ReleasePooledMemory();
        Assert.That(be.PooledBytes, Is.EqualTo(0));
    }
}
