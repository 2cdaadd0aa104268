using System.Numerics.Tensors;

namespace DiffKernels.Bench.Baselines;

/// <summary>
/// The memory roofline of a bandwidth-bound case: reads <c>reads</c> arrays and writes <c>writes</c>
/// arrays of the same length once each, in cache-sized chunks over all cores. Outputs are separate
/// arrays, or the first inputs updated in place (as an optimiser updates its state). A ratio near 1
/// against it means the kernel moves its data about as fast as the machine can.
/// </summary>
public sealed class StreamBaseline
{
    private const int Chunk = 4096;
    private readonly float[][] _in;
    private readonly float[][] _out;
    private readonly int _n;
    private readonly bool _inPlace;

    /// <summary>Arrays for a stream of <paramref name="reads"/> inputs and <paramref name="writes"/> outputs of n floats.</summary>
    public StreamBaseline(int reads, int writes, long n, bool inPlace = false)
    {
        _n = checked((int)n);
        _inPlace = inPlace;
        _in = Enumerable.Range(0, reads).Select(i => HostArrays.Random(n, 1000 + i)).ToArray();
        _out = inPlace ? _in.Take(writes).ToArray() : Enumerable.Range(0, writes).Select(_ => HostArrays.Zeros(n)).ToArray();
    }

    /// <summary>The name printed for this baseline.</summary>
    public string Name => $"stream r{_in.Length}w{_out.Length}{(_inPlace ? " in place" : "")}";

    /// <summary>
    /// One pass. Separate outputs: the first is the sum of the inputs, the others copies of it. In
    /// place: each written input gains the last input, and any other inputs are added into the first.
    /// </summary>
    public void Run()
    {
        int chunks = (_n + Chunk - 1) / Chunk;
        int threads = BaselineThreads.Count;
        Parallel.For(0, threads, BaselineThreads.Options, t =>
        {
            for (int c = chunks * t / threads; c < chunks * (t + 1) / threads; c++)
            {
                int s = c * Chunk, len = Math.Min(Chunk, _n - s);
                if (_inPlace)
                {
                    var last = _in[^1].AsSpan(s, len);
                    foreach (var w in _out) TensorPrimitives.Add(w.AsSpan(s, len), last, w.AsSpan(s, len));
                    for (int i = _out.Length; i < _in.Length - 1; i++) TensorPrimitives.Add(_in[0].AsSpan(s, len), _in[i].AsSpan(s, len), _in[0].AsSpan(s, len));
                    continue;
                }
                var o = _out[0].AsSpan(s, len);
                if (_in.Length == 1) _in[0].AsSpan(s, len).CopyTo(o);
                else TensorPrimitives.Add(_in[0].AsSpan(s, len), _in[1].AsSpan(s, len), o);
                for (int i = 2; i < _in.Length; i++) TensorPrimitives.Add(o, _in[i].AsSpan(s, len), o);
                for (int j = 1; j < _out.Length; j++) o.CopyTo(_out[j].AsSpan(s, len));
            }
        });
    }
}
