using DiffKernels.IO;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.IO;

public class SafeTensorsFuzzTests
{
    [Test]
    public void CorruptedFilesOnlyEverRaiseFormatErrors()
    {
        using var dir = new TempDir();
        using var scope = Tensor.Scope();
        string good = dir.File("good.safetensors");
        SafeTensors.Save(good, new Dictionary<string, Tensor>
        {
            ["a.weight"] = Tensor.Ones([2, 3]),
            ["b"] = Tensor.Scalar(2f),
            ["c"] = Tensor.Zeros([1, 1, 1, 1, 4]),
        }, new Dictionary<string, string> { ["note"] = "{\"x\": 1}" }, DType.BF16);
        var original = File.ReadAllBytes(good);
        long headerEnd = 8 + BitConverter.ToInt64(original, 0);

        var rng = new System.Random(20240601);
        string path = dir.File("fuzz.safetensors");
        int failures = 0, successes = 0;
        for (int iter = 0; iter < 600; iter++)
        {
            var bytes = Mutate(original, headerEnd, rng);
            File.WriteAllBytes(path, bytes);
            try
            {
                using var inner = Tensor.Scope();
                SafeTensors.Load(path);
                successes++;
            }
            catch (SafeTensorsFormatException e)
            {
                Assert.That(e.Message, Does.StartWith(path + ": "));
                failures++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {iter}: {e.GetType().Name}: {e.Message}\nbytes: {Convert.ToHexString(bytes)}");
            }
        }
        // Both outcomes must actually occur, or the mutations are not exercising the validator.
        Assert.That(failures, Is.GreaterThan(50));
        Assert.That(successes, Is.GreaterThan(10));
    }

    private static byte[] Mutate(byte[] original, long headerEnd, System.Random rng)
    {
        var b = (byte[])original.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip bits, mostly in the prefix and header
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    int at = rng.Next(10) < 8 ? rng.Next((int)headerEnd) : rng.Next(b.Length);
                    b[at] ^= (byte)(1 << rng.Next(8));
                }
                return b;
            case 1: // truncate anywhere
                return b[..rng.Next(b.Length)];
            case 2: // overwrite a header byte with a JSON-significant character
                b[8 + rng.Next((int)headerEnd - 8)] = "{}[]\",:0-9e. \\\0\xff"u8[rng.Next(17)];
                return b;
            case 3: // random header length prefix
                BitConverter.TryWriteBytes(b.AsSpan(0, 8), rng.Next(3) == 0 ? (ulong)rng.NextInt64() : (ulong)rng.Next(b.Length + 16));
                return b;
            default: // extend with junk
                return [.. b, .. Enumerable.Range(0, rng.Next(1, 32)).Select(_ => (byte)rng.Next(256))];
        }
    }
}
