using DiffKernels.Random;

namespace DiffKernels.Tests.Random;

public class PhiloxTests
{
    // Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2 words), expected (4 words).
    private static IEnumerable<TestCaseData> KnownAnswers()
    {
        yield return new TestCaseData(new uint[] { 0, 0, 0, 0 }, new uint[] { 0, 0 },
            new uint[] { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 }).SetName("Philox_KAT_zeros");
        yield return new TestCaseData(new uint[] { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, new uint[] { 0xffffffff, 0xffffffff },
            new uint[] { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd }).SetName("Philox_KAT_ones");
        yield return new TestCaseData(new uint[] { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, new uint[] { 0xa4093822, 0x299f31d0 },
            new uint[] { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 }).SetName("Philox_KAT_pi");
    }

    [TestCaseSource(nameof(KnownAnswers))]
    public void MatchesRandom123KnownAnswers(uint[] ctr, uint[] key, uint[] expected)
    {
        var r = new uint[4];
        Philox.Block(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], r);
        Assert.That(r, Is.EqualTo(expected));
    }

    [Test]
    public void KernelLayoutSplitsCounterAndKeyLowHigh()
    {
        ulong counter = 0x0123456789abcdefUL, key = 0xfedcba9876543210UL;
        var r = new uint[4];
        Philox.Block(0x89abcdef, 0x01234567, 0, 0, 0x76543210, 0xfedcba98, r);
        Philox.Block(counter, key, out uint r0, out uint r1, out uint r2, out uint r3);
        Assert.That(new[] { r0, r1, r2, r3 }, Is.EqualTo(r));
    }

    [Test]
    public void RejectsShortOutput() =>
        Assert.That(() => Philox.Block(0, 0, 0, 0, 0, 0, new uint[3]), Throws.ArgumentException.With.Message.Contains("Philox.Block"));
}
