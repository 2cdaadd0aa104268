using System.Buffers.Binary;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// Writes a float32 .npy file of a shape known up front a part at a time, so samples of any count go to disk in bounded
/// memory. The file appears only on <see cref="Commit"/>, which checks that every value came (a temporary file beside
/// it is renamed); disposing without committing removes the temporary file.
/// </summary>
public sealed class NpyWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tmp;
    private readonly long _numel;
    private FileStream? _stream;
    private long _written;

    /// <summary>Starts <paramref name="path"/> for values of <paramref name="shape"/> in C order.</summary>
    public NpyWriter(string path, IReadOnlyList<long> shape)
    {
        if (shape.Any(d => d < 0)) throw new ArgumentException($"NpyWriter: shape ({string.Join(", ", shape)}) has a negative size");
        _numel = shape.Aggregate(1L, (a, d) => a * d);
        _path = Path.GetFullPath(path);
        _tmp = Path.Combine(Path.GetDirectoryName(_path)!, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(_tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _stream.Write(NpyFile.Preamble(shape));
    }

    /// <summary>Bytes a file of <paramref name="shape"/> takes (data and header).</summary>
    public static long FileBytes(IReadOnlyList<long> shape) => NpyFile.Preamble(shape).Length + 4 * shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Appends the next values.</summary>
    public void Append(ReadOnlySpan<float> values)
    {
        var stream = _stream ?? throw new InvalidOperationException("NpyWriter: already committed");
        if (_written + values.Length > _numel) throw new ArgumentException($"NpyWriter: {_written + values.Length} values for a shape of {_numel}");
        var bytes = new byte[Math.Min(values.Length, 1 << 16) * 4];
        for (int start = 0; start < values.Length; start += bytes.Length / 4)
        {
            int count = Math.Min(bytes.Length / 4, values.Length - start);
            for (int i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[start + i]);
            stream.Write(bytes, 0, 4 * count);
        }
        _written += values.Length;
    }

    /// <summary>Closes the file and moves it into place; every value of the shape must have been appended.</summary>
    public void Commit()
    {
        var stream = _stream ?? throw new InvalidOperationException("NpyWriter: already committed");
        if (_written != _numel) throw new InvalidOperationException($"NpyWriter: {_written} of {_numel} values written");
        stream.Dispose();
        _stream = null;
        File.Move(_tmp, _path, overwrite: true);
    }

    /// <summary>Removes the temporary file unless committed.</summary>
    public void Dispose()
    {
        if (_stream == null) return;
        _stream.Dispose();
        _stream = null;
        try { File.Delete(_tmp); } catch (IOException) { }
    }
}
