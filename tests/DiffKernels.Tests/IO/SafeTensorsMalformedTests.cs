using System.Text;
using DiffKernels.IO;

namespace DiffKernels.Tests.IO;

public class SafeTensorsMalformedTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    /// <summary>Writes prefix (the JSON's length unless overridden), JSON and <paramref name="dataBytes"/> bytes of data.</summary>
    private string Write(string json, int dataBytes = 0, ulong? declared = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), declared ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        string path = _dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertFormatError(string path, string problem, bool loadOnly = false)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path))!;
        Assert.That(e.Message, Does.Contain(path), "message names the file");
        Assert.That(e.Message, Does.Contain(problem), "message names the problem");
        Assert.That(e.FilePath, Is.EqualTo(path));
        if (!loadOnly)
            Assert.That(() => SafeTensors.ReadHeader(path), Throws.InstanceOf<SafeTensorsFormatException>().With.Message.Contains(problem));
    }

    private const string Ok = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [Test]
    public void ShorterThanThePrefix()
    {
        string path = _dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertFormatError(path, "shorter than the 8-byte");
    }

    [Test]
    public void EmptyFile()
    {
        string path = _dir.File("empty.safetensors");
        File.WriteAllBytes(path, []);
        AssertFormatError(path, "file is 0 bytes");
    }

    [Test]
    public void ZeroHeaderLength() => AssertFormatError(Write("{}", declared: 0), "header length is 0");

    [Test]
    public void HeaderLongerThanTheFile() => AssertFormatError(Write("{}", declared: 1000), "larger than the 2 bytes");

    [TestCase(100UL * 1024 * 1024 + 1)]
    [TestCase(1UL << 40)]
    [TestCase(ulong.MaxValue)]
    public void AbsurdHeaderLengthIsRefusedBeforeAllocating(ulong declared) =>
        AssertFormatError(Write("{}", declared: declared), "exceeds the limit");

    [TestCase("{\"a\":", TestName = "Json_Unterminated")]
    [TestCase("not json", TestName = "Json_Garbage")]
    [TestCase("{\"a\":1,}", TestName = "Json_TrailingComma")]
    public void HeaderIsNotJson(string json) => AssertFormatError(Write(json), "not valid JSON");

    [TestCase("[1,2]", "JSON Array")]
    [TestCase("\"x\"", "JSON String")]
    [TestCase("null", "JSON Null")]
    public void HeaderIsNotAnObject(string json, string kind) => AssertFormatError(Write(json), $"header is a {kind}, expected an object");

    [Test]
    public void EntryIsNotAnObject() => AssertFormatError(Write("{\"w\":3}"), "tensor 'w': entry is a JSON Number");

    [TestCase("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "missing 'dtype'", TestName = "Missing_dtype")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "missing 'shape'", TestName = "Missing_shape")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", "missing 'data_offsets'", TestName = "Missing_data_offsets")]
    public void EntryMissesAField(string json, string problem) => AssertFormatError(Write(json, 8), $"tensor 'w': {problem}");

    [TestCase("{\"w\":{\"dtype\":5,\"shape\":[2],\"data_offsets\":[0,8]}}", "'dtype' is a JSON Number", TestName = "WrongType_dtype")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", "'shape' is a JSON String", TestName = "WrongType_shape")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", "shape element \"2\" is not a non-negative integer", TestName = "WrongType_shapeElement")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "shape element 2.5 is not", TestName = "WrongType_fractionalDim")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{\"b\":0}}}", "'data_offsets' is {\"b\":0}", TestName = "WrongType_data_offsets")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", "'data_offsets' is [0,8,16], expected [begin, end]", TestName = "WrongLength_data_offsets")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "'data_offsets' is [-8,0], expected [begin, end] with non-negative integers", TestName = "Negative_data_offsets")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e1]}}", "'data_offsets' is [0,1e1], expected [begin, end]", TestName = "Exponent_data_offsets")]
    public void EntryFieldHasTheWrongType(string json, string problem) => AssertFormatError(Write(json, 8), $"tensor 'w': {problem}");

    [TestCase("F33")]
    [TestCase("I64")]
    [TestCase("f32")]
    public void UnknownDType(string dtype) =>
        AssertFormatError(Write($"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[2],\"data_offsets\":[0,8]}}}}", 8), $"unsupported dtype '{dtype}'");

    [Test]
    public void NegativeDimension() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "shape element -2 is not a non-negative integer");

    [Test]
    public void DimensionBeyondInt() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[3000000000],\"data_offsets\":[0,8]}}", 8), "shape dimension 3000000000 is too large");

    [Test]
    public void DimensionBeyondLong() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8), "is not a non-negative integer");

    [Test]
    public void ElementCountOverflow() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8), "has too many elements");

    [Test]
    public void ZeroDimensionWithHugeOthersIsEmptyNotOverflow()
    {
        string path = Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,0,2147483647],\"data_offsets\":[0,0]}}");
        Assert.That(SafeTensors.ReadHeader(path).Tensors[0].Numel, Is.EqualTo(0));
    }

    [Test]
    public void OffsetsReversed() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), "data_offsets [8, 0] have begin after end");

    [Test]
    public void OffsetsOutOfRange() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8), "run past the end of the 8-byte data buffer");

    [Test]
    public void HugeOffsetsAreNotAllocated() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[500000000],\"data_offsets\":[0,2000000000]}}", 8), "run past the end");

    [Test]
    public void ByteCountDiffersFromShape() =>
        AssertFormatError(Write("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "span 8 bytes but shape [2] of F16 needs 4");

    [Test]
    public void OverlappingTensors() =>
        AssertFormatError(Write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
            "tensors 'a' [0, 8) and 'b' [4, 12) overlap");

    [Test]
    public void GapsAndEmptyTensorsInsideOthersAreAllowed()
    {
        string path = Write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16);
        var loaded = DiffKernels.IO.SafeTensors.Load(path);
        Assert.That(loaded.Tensors.Keys, Is.EqualTo(new[] { "a", "b", "e" }));
        foreach (var t in loaded.Tensors.Values) t.Dispose();
    }

    [Test]
    public void TruncatedData()
    {
        string path = Write("{\"w\":" + Ok + "}", 8);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);
        AssertFormatError(path, "run past the end of the 5-byte data buffer (truncated file?)");
    }

    [Test]
    public void HeaderIsNotUtf8()
    {
        string path = Write("{\"w\":" + Ok + "}", 8);
        var bytes = File.ReadAllBytes(path);
        bytes[10] = 0xFF;
        File.WriteAllBytes(path, bytes);
        AssertFormatError(path, "header is not valid UTF-8");
    }

    [Test]
    public void NonStringMetadataValue() =>
        AssertFormatError(Write("{\"__metadata__\":{\"steps\":4},\"w\":" + Ok + "}", 8), "metadata value for 'steps' is a JSON Number, expected a string");

    [Test]
    public void MetadataIsNotAnObject() =>
        AssertFormatError(Write("{\"__metadata__\":[\"x\"]}"), "__metadata__ is a JSON Array");

    [Test]
    public void DuplicateTensorName() =>
        AssertFormatError(Write("{\"w\":" + Ok + ",\"w\":" + Ok + "}", 8), "duplicate tensor name 'w'");

    [Test]
    public void RankAboveFiveCannotBeLoadedButCanBeInspected()
    {
        string path = Write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8);
        Assert.That(SafeTensors.ReadHeader(path).Tensors[0].Shape, Has.Count.EqualTo(6));
        AssertFormatError(path, "tensor 'w': rank 6 exceeds the supported maximum 5", loadOnly: true);
    }
}
