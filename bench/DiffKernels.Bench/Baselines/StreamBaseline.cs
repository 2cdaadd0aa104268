using System.Numerics.Tensors;

namespace DiffKernels.Bench.Baselines;

/// <summary>
/// The memory roofline of a bandwidth-bound case: reads <c>reads</c> arrays and writes <c>writes</c>
/// arrays of the same length once each, in cache-sized chunks over all cores. A ratio near 1 against
/// it means the kernel moves its data about as fast as the machine can.
/// </summary>
public sealed class StreamBaseline
{
    private const int Chunk = 4096;
    private readonly float[][] _in;
    private readonly float[][] _out;
    private readonly int _n;

    /// <summary>Arrays for a stream of <paramref name="reads"/> inputs and <paramref name="writes"/> outputs of n floats.</summary>
    public StreamBaseline(int reads, int writes, long n)
    {
        _n = checked((int)n);
        _in = Enumerable.Range(0, reads).Select(i => HostArrays.Random(n, 1000 + i)).ToArray();
        _out = Enumerable.Range(0, writes).Select(_ => HostArrays.Zeros(n)).ToArray();
    }

    /// <summary>The name printed for this baseline.</summary>
    public string Name => $"stream r{_in.Length}w{_out.Length}";

    /// <summary>One pass: the first output is the sum of the inputs, the others copies of it.</summary>
    public void Run()
    {
        int chunks = (_n + Chunk - 1) / Chunk;
        int threads = BaselineThreads.Count;
        Parallel.For(0, threads, BaselineThreads.Options, t =>
        {
            for (int c = chunks * t / threads; c < chunks * (t + 1) / threads; c++)
            {
                int s = c * Chunk, len = Math.Min(Chunk, _n - s);
                var o = _out[0].AsSpan(s, len);
                if (_in.Length == 1) _in[0].AsSpan(s, len).CopyTo(o);
                else TensorPrimitives.Add(_in[0].AsSpan(s, len), _in[1].AsSpan(s, len), o);
                for (int i = 2; i < _in.Length; i++) TensorPrimitives.Add(o, _in[i].AsSpan(s, len), o);
                for (int j = 1; j < _out.Length; j++) o.CopyTo(_out[j].AsSpan(s, len));
            }
        });
    }
}
