using System.Text;
using DiffKernels.IO;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.IO;

public class SafeTensorsRoundTripTests
{
    private static int[] Bits(float[] v) => Array.ConvertAll(v, BitConverter.SingleToInt32Bits);

    private static float[] Sample(int n, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-6, 6)))).ToArray();
    }

    /// <summary>bfloat16 round-to-nearest-even by brute force: the nearer of the two neighbours, the even one on a tie.</summary>
    private static float RefBf16(float v)
    {
        if (float.IsNaN(v) || float.IsInfinity(v)) return v;
        uint bits = BitConverter.SingleToUInt32Bits(v);
        uint lo = bits & 0xFFFF0000, hi = lo + 0x10000;
        double Value(uint b) => (b & 0x7FFFFFFF) == 0x7F800000 ? Math.CopySign(Math.Pow(2, 128), v) : BitConverter.UInt32BitsToSingle(b);
        double dl = Math.Abs(v - Value(lo)), dh = Math.Abs(Value(hi) - v);
        uint pick = dl < dh ? lo : dh < dl ? hi : ((lo >> 16) & 1) == 0 ? lo : hi;
        return BitConverter.UInt32BitsToSingle(pick);
    }

    private static Dictionary<string, Tensor> SampleTensors()
    {
        var special = new[] { 0f, -0f, 1f, -2.5f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, 65504f, 70000f,
            1f + MathF.Pow(2, -11), 1f + 3 * MathF.Pow(2, -11), 1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), float.MaxValue, 1e-30f };
        return new Dictionary<string, Tensor>
        {
            ["unet.down.0.conv.weight"] = Tensor.FromArray(Sample(2 * 1 * 3 * 1 * 4, 1), 2, 1, 3, 1, 4),
            ["scale"] = Tensor.Scalar(0.1234567f),
            ["special"] = Tensor.FromArray(special),
            ["a.b"] = Tensor.FromArray(Sample(15, 2), 3, 5),
            ["empty"] = Tensor.Zeros([0, 3]),
            ["ünïcode name"] = Tensor.FromArray([7f]),
        };
    }

    private static IEnumerable<TestCaseData> DTypes()
    {
        yield return new TestCaseData(DType.F32, (Func<float, float>)(v => v)).SetName("RoundTrip_F32");
        yield return new TestCaseData(DType.F16, (Func<float, float>)(v => (float)(Half)v)).SetName("RoundTrip_F16");
        yield return new TestCaseData(DType.BF16, (Func<float, float>)RefBf16).SetName("RoundTrip_BF16");
    }

    [TestCaseSource(nameof(DTypes))]
    public void RoundTripsValuesShapesNamesAndMetadata(DType dtype, Func<float, float> expected)
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        var tensors = SampleTensors();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["config"] = "{\"steps\": 4, \"sigma\": [0.1, 80]}", ["empty"] = "" };
        string path = dir.File("model.safetensors");
        SafeTensors.Save(path, tensors, metadata, dtype);

        var loaded = SafeTensors.Load(path);
        Assert.That(loaded.Tensors.Keys, Is.EqualTo(tensors.Keys.Order(StringComparer.Ordinal)));
        Assert.That(loaded.Metadata, Is.EquivalentTo(metadata));
        foreach (var (name, t) in tensors)
        {
            var back = loaded.Tensors[name];
            Assert.That(back.Shape, Is.EqualTo(t.Shape), name);
            Assert.That(back.Name, Is.EqualTo(name));
            Assert.That(Bits(back.ToArray()), Is.EqualTo(Bits(t.ToArray().Select(expected).ToArray())), $"{name} as {dtype}");
        }

        var header = SafeTensors.ReadHeader(path);
        Assert.That(header.Tensors.Select(i => i.DType), Is.All.EqualTo(dtype));
        var w = header.Tensors.Single(i => i.Name == "unet.down.0.conv.weight");
        Assert.That(w.Shape, Is.EqualTo(new[] { 2, 1, 3, 1, 4 }));
        Assert.That(w.ByteLength, Is.EqualTo(24 * (dtype == DType.F32 ? 4 : 2)));
        Assert.That(header.Tensors.Single(i => i.Name == "scale").Shape, Is.Empty);
    }

    [Test]
    public void RoundingTiesGoToEven()
    {
        // Exact ties between representable neighbours pin down the rounding mode of both narrow types.
        Assert.That((float)(Half)(1f + MathF.Pow(2, -11)), Is.EqualTo(1f));
        Assert.That((float)(Half)(1f + 3 * MathF.Pow(2, -11)), Is.EqualTo(1f + MathF.Pow(2, -9)));
        Assert.That(RefBf16(1f + MathF.Pow(2, -8)), Is.EqualTo(1f));
        Assert.That(RefBf16(1f + 3 * MathF.Pow(2, -8)), Is.EqualTo(1f + MathF.Pow(2, -6)));
        Assert.That(RefBf16(float.MaxValue), Is.EqualTo(float.PositiveInfinity));
    }

    [Test]
    public void NaNSurvivesNarrowing()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        foreach (var dtype in new[] { DType.F16, DType.BF16 })
        {
            string path = dir.File($"nan-{dtype}.safetensors");
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([float.NaN, -float.NaN]) }, dtype: dtype);
            Assert.That(SafeTensors.Load(path).Tensors["x"].ToArray(), Is.All.NaN, dtype.ToString());
        }
    }

    [Test]
    public void HeaderIsPaddedToEightBytesAndDescribesTheLayout()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        string path = dir.File("m.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["b"] = Tensor.Ones([3]), ["a"] = Tensor.Ones([2, 2]) }, new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.That(n % 8, Is.EqualTo(0));
        string json = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.That(json, Does.StartWith("{"));
        Assert.That(json.TrimEnd(' '), Does.EndWith("}"));
        Assert.That(json, Does.Contain("\"__metadata__\":{\"k\":\"v\"}"));
        Assert.That(json, Does.Contain("\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}"));
        Assert.That(json, Does.Contain("\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]}"));
        Assert.That(bytes.Length, Is.EqualTo(8 + n + 28));
        Assert.That(BitConverter.ToSingle(bytes, (int)(8 + n + 16)), Is.EqualTo(1f));

        var h = SafeTensors.ReadHeader(path);
        Assert.That(h.HeaderLength, Is.EqualTo(n));
        Assert.That(h.DataLength, Is.EqualTo(28));
        Assert.That(h.Tensors.Select(t => (t.Name, t.Begin, t.End, t.Numel)), Is.EqualTo(new[] { ("a", 0L, 16L, 4L), ("b", 16L, 28L, 3L) }));
    }

    [Test]
    public void SavesAnEmptyDictionaryAndOverwrites()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        string path = dir.File("m.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Ones([1000]) });
        SafeTensors.Save(path, new Dictionary<string, Tensor>());
        var loaded = SafeTensors.Load(path);
        Assert.That(loaded.Tensors, Is.Empty);
        Assert.That(loaded.Metadata, Is.Empty);
        Assert.That(dir.Entries(), Is.EqualTo(new[] { "m.safetensors" }));
    }

    [Test]
    public void LoadsALargeTensorAcrossChunks()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        var values = Sample(70_003, 9);
        string path = dir.File("big.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(values) });
        Assert.That(SafeTensors.Load(path).Tensors["w"].ToArray(), Is.EqualTo(values));
    }

    [Test]
    public void RejectsReservedNameAndNullMetadata()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        Assert.That(() => SafeTensors.Save(dir.File("m"), new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones([1]) }),
            Throws.ArgumentException.With.Message.Contains("reserved"));
        Assert.That(() => SafeTensors.Save(dir.File("m"), new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["k"] = null! }),
            Throws.ArgumentException.With.Message.Contains("'k'"));
        Assert.That(dir.Entries(), Is.Empty);
    }

    [Test]
    public void MissingFileIsAnIoError()
    {
        using var dir = new TempDir();
        Assert.That(() => SafeTensors.Load(dir.File("nope.safetensors")), Throws.InstanceOf<FileNotFoundException>());
    }
}
