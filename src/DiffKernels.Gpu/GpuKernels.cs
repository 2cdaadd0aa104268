using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// Launch delegates of every kernel, compiled on first use and then kept for the backend's lifetime
/// (compilation costs milliseconds to seconds; a launch through a kept delegate costs microseconds).
/// Auto-grouped kernels launch over an element count; grouped ones take an explicit KernelConfig.
/// All launch on the backend's own stream (GpuKernels.Stream.cs). Every launch fetches its delegate here just before
/// calling it (no call site keeps one), so the fetches count the launches, per kernel.
/// </summary>
internal sealed partial class GpuKernels(Accelerator acc, AcceleratorStream stream)
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _launches = new();

    /// <summary>Kernel launches so far, per kernel (the member that launches it), as a snapshot.</summary>
    public IReadOnlyDictionary<string, long> Launches => _launches.ToDictionary(kv => kv.Key, kv => Interlocked.Read(ref kv.Value.Value));

    private T Get<T>(ref T? slot, Func<T> load, [CallerMemberName] string kernel = "") where T : class
    {
        Interlocked.Increment(ref _launches.GetOrAdd(kernel, _ => new StrongBox<long>()).Value);
        return LazyInitializer.EnsureInitialized(ref slot, load);
    }

    private Action<Index1D, ArrayView<float>, int, float>? _fill;
    public Action<Index1D, ArrayView<float>, int, float> Fill => Get(ref _fill, () =>
        Auto<Index1D, ArrayView<float>, int, float>(ElementwiseKernels.Fill));

    private Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, Layout5>? _copyStrided;
    public Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, Layout5> CopyStrided => Get(ref _copyStrided, () =>
        Auto<Index1D, ArrayView<float>, int, ArrayView<float>, int, Layout5>(ElementwiseKernels.CopyStrided));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Layout5, int>? _binary;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Layout5, int> Binary => Get(ref _binary, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Layout5, int>(ElementwiseKernels.Binary));

    private Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int>? _binaryFlat;
    public Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int> BinaryFlat => Get(ref _binaryFlat, () =>
        Auto<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int>(ElementwiseKernels.BinaryFlat));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Layout5>? _where;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Layout5> Where => Get(ref _where, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Layout5>(ElementwiseKernels.Where));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>? _unary;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, float, float> Unary => Get(ref _unary, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>(ElementwiseKernels.Unary));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float>? _unaryBackward;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float> UnaryBackward => Get(ref _unaryBackward, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float>(ElementwiseKernels.UnaryBackward));

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? _reduceRows;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> ReduceRows => Get(ref _reduceRows, () =>
        Grouped<ArrayView<float>, ArrayView<float>, int, int>(ReduceKernels.Rows));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int>? _reduceColumns;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int> ReduceColumns => Get(ref _reduceColumns, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(ReduceKernels.Columns));

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? _softmaxRows;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> SoftmaxRows => Get(ref _softmaxRows, () =>
        Grouped<ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Rows));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? _softmaxColumns;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> SoftmaxColumns => Get(ref _softmaxColumns, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.Columns));

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _softmaxBackwardRows;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> SoftmaxBackwardRows => Get(ref _softmaxBackwardRows, () =>
        Grouped<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.BackwardRows));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _softmaxBackwardColumns;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> SoftmaxBackwardColumns => Get(ref _softmaxBackwardColumns, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.BackwardColumns));

    private Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int>? _gemmLarge, _gemmSmall;
    /// <summary>The SGEMM at the large (128 × 128) or small (64 × 64) tile shape.</summary>
    public Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int> Gemm(bool large) => large
        ? Get(ref _gemmLarge, () => Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm<GemmLarge>))
        : Get(ref _gemmSmall, () => Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm<GemmSmall>));

    private Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int>? _gemmTf32Large, _gemmTf32Small, _gemm3xTf32Large, _gemm3xTf32Small;

    /// <summary>
    /// The SGEMM on TF32 tensor cores at the large or small tile shape: inline mma.sync on CUDA, its C# twin
    /// where <paramref name="twin"/> (the emulator).
    /// </summary>
    public Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int> GemmTf32(bool large, bool twin) => large
        ? Get(ref _gemmTf32Large, () => twin
            ? Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.GemmTf32<GemmLarge, MmaTwin>)
            : Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.GemmTf32<GemmLarge, Mma>))
        : Get(ref _gemmTf32Small, () => twin
            ? Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.GemmTf32<GemmSmall, MmaTwin>)
            : Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.GemmTf32<GemmSmall, Mma>));

    /// <summary>The 3×TF32 SGEMM at the large or small tile shape (as <see cref="GemmTf32"/>).</summary>
    public Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int> Gemm3xTf32(bool large, bool twin) => large
        ? Get(ref _gemm3xTf32Large, () => twin
            ? Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm3xTf32<GemmLarge, MmaTwin>)
            : Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm3xTf32<GemmLarge, Mma>))
        : Get(ref _gemm3xTf32Small, () => twin
            ? Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm3xTf32<GemmSmall, MmaTwin>)
            : Grouped<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm3xTf32<GemmSmall, Mma>));

    private readonly Action<KernelConfig, Im2ColA, WeightTB, BiasC>?[] _convForward = new Action<KernelConfig, Im2ColA, WeightTB, BiasC>?[4];
    /// <summary>The convolution forward at a tile shape.</summary>
    public Action<KernelConfig, Im2ColA, WeightTB, BiasC> ConvForward(ConvTile tile) => Get(ref _convForward[(int)tile], () => tile switch
    {
        ConvTile.Large => Grouped<Im2ColA, WeightTB, BiasC>(ConvKernels.Forward<GemmLarge>),
        ConvTile.Mid => Grouped<Im2ColA, WeightTB, BiasC>(ConvKernels.Forward<GemmMid>),
        ConvTile.Narrow => Grouped<Im2ColA, WeightTB, BiasC>(ConvKernels.Forward<GemmNarrow>),
        _ => Grouped<Im2ColA, WeightTB, BiasC>(ConvKernels.Forward<GemmSmall>),
    });

    private readonly Action<KernelConfig, DyGatherA, WeightTapB, DenseC>?[] _convBackwardData = new Action<KernelConfig, DyGatherA, WeightTapB, DenseC>?[4];
    /// <summary>The convolution data gradient at a tile shape.</summary>
    public Action<KernelConfig, DyGatherA, WeightTapB, DenseC> ConvBackwardData(ConvTile tile) => Get(ref _convBackwardData[(int)tile], () => tile switch
    {
        ConvTile.Large => Grouped<DyGatherA, WeightTapB, DenseC>(ConvKernels.BackwardData<GemmLarge>),
        ConvTile.Mid => Grouped<DyGatherA, WeightTapB, DenseC>(ConvKernels.BackwardData<GemmMid>),
        ConvTile.Narrow => Grouped<DyGatherA, WeightTapB, DenseC>(ConvKernels.BackwardData<GemmNarrow>),
        _ => Grouped<DyGatherA, WeightTapB, DenseC>(ConvKernels.BackwardData<GemmSmall>),
    });

    private readonly Action<KernelConfig, PatchRowsA, DyB, SplitKC<WeightGradC>, int>?[] _convBackwardWeight = new Action<KernelConfig, PatchRowsA, DyB, SplitKC<WeightGradC>, int>?[4];
    /// <summary>The convolution weight (and bias) gradient at a tile shape.</summary>
    public Action<KernelConfig, PatchRowsA, DyB, SplitKC<WeightGradC>, int> ConvBackwardWeight(ConvTile tile) => Get(ref _convBackwardWeight[(int)tile], () => tile switch
    {
        ConvTile.Large => Grouped<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmLarge>),
        ConvTile.Mid => Grouped<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmMid>),
        ConvTile.Narrow => Grouped<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmNarrow>),
        _ => Grouped<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmSmall>),
    });

    private Action<KernelConfig, AttentionTileArgs>? _attentionForward32, _attentionForward64;
    /// <summary>The tiled attention forward for heads up to 32 wide (<paramref name="wide"/> false) or up to 64.</summary>
    public Action<KernelConfig, AttentionTileArgs> AttentionForward(bool wide) => wide
        ? Get(ref _attentionForward64, () => Grouped<AttentionTileArgs>(AttentionKernels.Forward<AttentionD64>))
        : Get(ref _attentionForward32, () => Grouped<AttentionTileArgs>(AttentionKernels.Forward<AttentionD32>));

    private Action<KernelConfig, AttentionTileArgs>? _attentionBackward32, _attentionBackward64;
    /// <summary>The one-launch tiled attention backward for heads up to 32 wide (<paramref name="wide"/> false) or up to 64.</summary>
    public Action<KernelConfig, AttentionTileArgs> AttentionBackward(bool wide) => wide
        ? Get(ref _attentionBackward64, () => Grouped<AttentionTileArgs>(AttentionKernels.Backward<AttentionD64>))
        : Get(ref _attentionBackward32, () => Grouped<AttentionTileArgs>(AttentionKernels.Backward<AttentionD32>));

    private Action<KernelConfig, AttentionArgs>? _attentionGeneralForward;
    public Action<KernelConfig, AttentionArgs> AttentionGeneralForward => Get(ref _attentionGeneralForward, () =>
        Grouped<AttentionArgs>(AttentionGeneralKernels.Forward));

    private Action<Index1D, AttentionArgs>? _attentionGeneralDelta;
    public Action<Index1D, AttentionArgs> AttentionGeneralDelta => Get(ref _attentionGeneralDelta, () =>
        Auto<Index1D, AttentionArgs>(AttentionGeneralKernels.Delta));

    private Action<KernelConfig, AttentionArgs>? _attentionGeneralBackwardKV;
    public Action<KernelConfig, AttentionArgs> AttentionGeneralBackwardKV => Get(ref _attentionGeneralBackwardKV, () =>
        Grouped<AttentionArgs>(AttentionGeneralKernels.BackwardKV));

    private Action<KernelConfig, AttentionArgs>? _attentionGeneralBackwardQ;
    public Action<KernelConfig, AttentionArgs> AttentionGeneralBackwardQ => Get(ref _attentionGeneralBackwardQ, () =>
        Grouped<AttentionArgs>(AttentionGeneralKernels.BackwardQ));

    private Action<KernelConfig, NormArgs>? _normForward;
    public Action<KernelConfig, NormArgs> NormForward => Get(ref _normForward, () =>
        Grouped<NormArgs>(NormKernels.Forward));

    private Action<KernelConfig, NormArgs>? _normForwardCached;
    public Action<KernelConfig, NormArgs> NormForwardCached => Get(ref _normForwardCached, () =>
        Grouped<NormArgs>(NormKernels.ForwardCached));

    private Action<KernelConfig, NormArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _normBackwardCached;
    public Action<KernelConfig, NormArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> NormBackwardCached => Get(ref _normBackwardCached, () =>
        Grouped<NormArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(NormKernels.BackwardCached));

    private Action<Index1D, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>, int>? _normAffineSums;
    public Action<Index1D, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>, int> NormAffineSums => Get(ref _normAffineSums, () =>
        Auto<Index1D, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>, int>(NormKernels.AffineSums));

    private Action<Index1D, NormArgs, ArrayView<float>, ArrayView<float>, int>? _normFilmGrads;
    public Action<Index1D, NormArgs, ArrayView<float>, ArrayView<float>, int> NormFilmGrads => Get(ref _normFilmGrads, () =>
        Auto<Index1D, NormArgs, ArrayView<float>, ArrayView<float>, int>(NormKernels.FilmGrads));

    private Action<KernelConfig, NormArgs>? _normBackwardData;
    public Action<KernelConfig, NormArgs> NormBackwardData => Get(ref _normBackwardData, () =>
        Grouped<NormArgs>(NormKernels.BackwardData));

    private Action<Index1D, NormArgs, ArrayView<float>, int, int>? _normAffinePartials;
    public Action<Index1D, NormArgs, ArrayView<float>, int, int> NormAffinePartials => Get(ref _normAffinePartials, () =>
        Auto<Index1D, NormArgs, ArrayView<float>, int, int>(NormKernels.AffinePartials));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float>? _spread;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float> Spread => Get(ref _spread, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float>(PoolKernels.Spread));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float>? _blockSum;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float> BlockSum => Get(ref _blockSum, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float>(PoolKernels.BlockSum));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, double>? _embedding;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, double> Embedding => Get(ref _embedding, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, int, double>(EmbeddingKernels.Forward));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, double>? _embeddingBackward;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, double> EmbeddingBackward => Get(ref _embeddingBackward, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, double>(EmbeddingKernels.Backward));

    private Action<Index1D, ArrayView<float>, int, ulong, ulong>? _uniform;
    public Action<Index1D, ArrayView<float>, int, ulong, ulong> Uniform => Get(ref _uniform, () =>
        Auto<Index1D, ArrayView<float>, int, ulong, ulong>(RandomKernels.Uniform));

    private Action<Index1D, ArrayView<float>, int, ulong, ulong, float, float>? _normal;
    public Action<Index1D, ArrayView<float>, int, ulong, ulong, float, float> Normal => Get(ref _normal, () =>
        Auto<Index1D, ArrayView<float>, int, ulong, ulong, float, float>(RandomKernels.Normal));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>? _adam;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars> Adam => Get(ref _adam, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>(OptimKernels.Adam));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, float>? _lerp;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, float> Lerp => Get(ref _lerp, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, float>(OptimKernels.Lerp));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars, float, float, int>? _adamEma;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars, float, float, int> AdamEma => Get(ref _adamEma, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars, float, float, int>(OptimKernels.AdamEma));

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? _squaresRows;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> SquaresRows => Get(ref _squaresRows, () =>
        Grouped<ArrayView<float>, ArrayView<float>, int, int>(OptimKernels.SquaresRows));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _edmTrainingInputs;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> EdmTrainingInputs => Get(ref _edmTrainingInputs, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(ScheduleKernels.EdmTrainingInputs));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _edmDenoise;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> EdmDenoise => Get(ref _edmDenoise, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(ScheduleKernels.EdmDenoise));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float>? _edmDenoiseUniform;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float> EdmDenoiseUniform => Get(ref _edmDenoiseUniform, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float>(ScheduleKernels.EdmDenoiseUniform));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>? _eulerUniform;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> EulerUniform => Get(ref _eulerUniform, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(ScheduleKernels.EulerUniform));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float>? _heunUniform;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float> HeunUniform => Get(ref _heunUniform, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float>(ScheduleKernels.HeunUniform));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _euler;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> Euler => Get(ref _euler, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ScheduleKernels.Euler));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _heun;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> Heun => Get(ref _heun, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ScheduleKernels.Heun));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _ddim;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> Ddim => Get(ref _ddim, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ScheduleKernels.Ddim));

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, float>? _scoreDifference;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, float> ScoreDifference => Get(ref _scoreDifference, () =>
        Grouped<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, float>(ScheduleKernels.ScoreDifference));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _bootTarget;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> BootTarget => Get(ref _bootTarget, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(ScheduleKernels.BootTarget));

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _pdTarget;
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> PdTarget => Get(ref _pdTarget, () =>
        Auto<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ScheduleKernels.PdTarget));

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, float>? _thresholdX0;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, float> ThresholdX0 => Get(ref _thresholdX0, () =>
        Grouped<ArrayView<float>, ArrayView<float>, int, float>(ScheduleKernels.ThresholdX0));
}
