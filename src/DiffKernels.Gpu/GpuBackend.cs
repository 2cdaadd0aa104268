using DiffKernels.Backends;
using DiffKernels.Kernels;
using DiffKernels.Tensors;
using Device = DiffKernels.Tensors.Device;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace DiffKernels.Gpu;

/// <summary>
/// The ILGPU backend: implements <see cref="IBackend"/> by launching the kernels of DiffKernels.Kernels
/// on one accelerator (CUDA, OpenCL or ILGPU's CPU emulator). Memory comes from a caching allocator;
/// kernels are compiled once, on first use, and their launchers kept; every launch and copy is queued on
/// one stream of the backend's own (not the accelerator's default stream, which on CUDA is the legacy stream
/// that synchronises with all others), in order, so calls return before the work is done. Host transfers happen
/// only in <see cref="Upload"/> (staged, does not wait) and <see cref="Download"/> (waits for the queued work);
/// <see cref="HostWaits"/> counts the times the host waited. Buffers hold
/// at most 2³¹ − 1 floats (kernels index with 32-bit integers). Calls are meant to come from one thread
/// at a time, like launches on one stream; the allocator alone is thread-safe.
/// </summary>
public sealed partial class GpuBackend : IBackend, IGraphCapture, IDisposable
{
    private readonly Context _context;
    private readonly Accelerator _acc;
    private readonly BufferPool _pool;
    private readonly GpuKernels _k;
    private readonly LaunchPlan _plan;
    private readonly AcceleratorStream _stream;
    private readonly UploadRing? _ring;
    private long _hostWaits;
    private bool _disposed;

    /// <summary>Floats of page-locked staging memory for uploads (4 MiB): a batch of UNet-S inputs fits many times.</summary>
    internal const int UploadRingFloats = 1 << 20;

    /// <summary>
    /// The stream every kernel and copy of this backend is queued on (collectives queue there too): one created for
    /// the backend, not the accelerator's default stream.
    /// </summary>
    internal AcceleratorStream Stream => _stream;

    // ILGPU's default CPU device allows 16 threads per group; the GEMM's compile-time shapes need 256,
    // and two multiprocessors make small products take the small GEMM shape, as on a GPU.
    internal static readonly CPUDevice EmulatorDevice = new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 64, numMultiprocessors: 2);

    private GpuBackend(Context context, Accelerator acc, GpuKind kind, string deviceName)
    {
        _context = context;
        _acc = acc;
        Kind = kind;
        _pool = new BufferPool(acc);
        _stream = acc.CreateStream();
        // OpenCL keeps the pageable copy: ILGPU's copies between host and OpenCL memory are not the CUDA driver's
        // ordered asynchronous copies that the ring's reasoning rests on.
        _ring = kind == GpuKind.OpenCL ? null : new UploadRing(acc, _stream, UploadRingFloats);
        _k = new GpuKernels(acc, _stream);
        _plan = new LaunchPlan(acc);
        Device = new Device(deviceName, this);
    }

    /// <summary>
    /// Opens an accelerator of the given kind: with <see cref="GpuKind.Auto"/> the first CUDA device,
    /// else the first OpenCL GPU, else the CPU emulator. Throws <see cref="GpuUnavailableException"/>
    /// when a specific kind is asked for and absent. The matrix products run at <paramref name="precision"/>,
    /// by default the one <see cref="MatmulPrecisions.EnvironmentVariable"/> names (FP32 when unset); a TF32
    /// precision the accelerator cannot run throws <see cref="InvalidInputException"/>.
    /// </summary>
    public static GpuBackend Create(GpuKind kind = GpuKind.Auto, MatmulPrecision? precision = null)
    {
        var matmul = precision ?? MatmulPrecisions.FromEnvironment();
        var backend = Open(kind);
        try
        {
            backend.MatmulPrecision = matmul;
            return backend;
        }
        catch (InvalidInputException e) when (precision == null)
        {
            backend.Dispose();
            throw new InvalidInputException($"{MatmulPrecisions.EnvironmentVariable}={MatmulPrecisions.Name(matmul)}", e.Problem);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    private static GpuBackend Open(GpuKind kind)
    {
        var context = Context.Create(b =>
        {
            b.Optimize(OptimizationLevel.O2).EnableAlgorithms();
            if (kind is GpuKind.Auto or GpuKind.Cuda) b.Cuda();
            if (kind is GpuKind.Auto or GpuKind.OpenCL) b.OpenCL();
            if (kind is GpuKind.Auto or GpuKind.CpuEmulator) b.CPU(EmulatorDevice);
        });
        try
        {
            var cuda = context.Devices.OfType<CudaDevice>().FirstOrDefault();
            var cl = context.Devices.OfType<CLDevice>().FirstOrDefault(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU);
            var cpu = context.Devices.OfType<CPUDevice>().FirstOrDefault();
            ILGPU.Runtime.Device? device = kind switch
            {
                GpuKind.Cuda => cuda,
                GpuKind.OpenCL => cl,
                GpuKind.CpuEmulator => cpu,
                _ => (ILGPU.Runtime.Device?)cuda ?? (ILGPU.Runtime.Device?)cl ?? cpu,
            };
            if (device == null)
                throw new GpuUnavailableException(DeviceChoice.NameOf(kind), kind == GpuKind.Cuda ? "no CUDA device" : $"no {kind} device");
            var actual = device switch
            {
                CudaDevice => GpuKind.Cuda,
                CLDevice => GpuKind.OpenCL,
                _ => GpuKind.CpuEmulator,
            };
            string name = actual switch
            {
                GpuKind.Cuda => "cuda:0",
                GpuKind.OpenCL => "opencl:0",
                _ => "cpu-emulator",
            };
            return new GpuBackend(context, device.CreateAccelerator(context), actual, name);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The kind of accelerator in use.</summary>
    public GpuKind Kind { get; }

    /// <summary>The tensor device served by this backend ("cuda:0", "opencl:0" or "cpu-emulator").</summary>
    public Device Device { get; }

    /// <summary>The accelerator's name as ILGPU reports it.</summary>
    public string AcceleratorName => _acc.Name;

    /// <inheritdoc/>
    public string Name => Kind switch
    {
        GpuKind.Cuda => "cuda",
        GpuKind.OpenCL => "opencl",
        _ => "cpu-emulator",
    };

    /// <summary>Allocator statistics: driver allocations, reuses from the free lists, bytes cached and in use.</summary>
    public GpuMemoryStats Memory => new(_pool.DriverAllocations, _pool.Reuses, _pool.CachedBytes, _pool.InUseBytes);

    /// <summary>
    /// Kernel launches queued so far by this backend, per kernel (host transfers in <see cref="Upload"/> and
    /// <see cref="Download"/> are copies, not launches). On a GPU each launch costs microseconds of host time whatever its size,
    /// so the count per training step bounds how fast a small model can step.
    /// </summary>
    public IReadOnlyDictionary<string, long> LaunchesByKernel => _k.Launches;

    /// <summary>Kernel launches queued so far by this backend, all kernels together.</summary>
    public long KernelLaunches => _k.Launches.Values.Sum();

    /// <summary>
    /// Times the host has waited for this backend's stream: a <see cref="Download"/>, a <see cref="Synchronize"/>, an
    /// upload too large for the staging ring or made while the ring was full. Per training step, the reads of the
    /// loss and of the gradient norm are the waits that remain.
    /// </summary>
    public long HostWaits => Interlocked.Read(ref _hostWaits);

    /// <summary>Returns every cached free buffer to the driver (memory in use is untouched).</summary>
    public void ReleaseCachedMemory() => _pool.ReleaseCached();

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long length)
    {
        if (length < 0 || length > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(length), $"{Name} backend: {length} elements is outside [0, 2³¹ − 1]");
        return new GpuBuffer(this, _pool, _pool.Rent(Math.Max(1, length)), length);
    }

    /// <summary>The kernel view of a buffer of this backend.</summary>
    private ArrayView<float> V(DeviceBuffer b)
    {
        if (b is not GpuBuffer g || !ReferenceEquals(g.Backend, this))
            throw new ArgumentException($"{Name} backend: buffer belongs to backend '{b.Backend.Name}'");
        return g.View;
    }

    /// <summary>A 32-bit index for the kernels (buffers are below 2³¹ elements, so valid arguments fit).</summary>
    private static int I(long v) => checked((int)v);

    /// <inheritdoc/>
    public unsafe void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset)
    {
        if (src.Length == 0) return;
        ThrowIfCapturing("Upload");
        var target = V(dst).SubView(dstOffset, src.Length);
        if (_ring != null)
        {
            long waits = _ring.Waits;
            bool staged = _ring.TryUpload(src, target);
            Interlocked.Add(ref _hostWaits, _ring.Waits - waits);
            if (staged) return;
        }
        // ILGPU reads host memory through a raw address: the span must stay pinned until the copy
        // has completed (CopyFromCPU waits for it), or a compacting GC could move it mid-copy.
        Interlocked.Increment(ref _hostWaits);
        fixed (float* p = src)
            target.CopyFromCPU(_stream, ref *p, src.Length);
    }

    /// <inheritdoc/>
    public unsafe void Download(DeviceBuffer src, long srcOffset, Span<float> dst)
    {
        ThrowIfCapturing("Download");
        if (dst.Length == 0)
        {
            Synchronize();
            return;
        }
        long mark = _ring?.Mark() ?? 0;
        Interlocked.Increment(ref _hostWaits);
        fixed (float* p = dst)
            V(src).SubView(srcOffset, dst.Length).CopyToCPU(_stream, ref *p, dst.Length);
        _ring?.Passed(mark);
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, long offset, long count, float value)
    {
        if (count > 0) _k.Fill(I(count), V(dst), I(offset), value);
    }

    /// <inheritdoc/>
    public void CopyStrided(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, Shape shape)
    {
        long n = shape.Numel;
        if (n == 0) return;
        _k.CopyStrided(I(n), V(src), I(srcOffset), V(dst), I(dstOffset), Layouts.Of(shape, srcStrides, dstStrides));
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        ThrowIfCapturing("Synchronize");
        long mark = _ring?.Mark() ?? 0;
        Interlocked.Increment(ref _hostWaits);
        _stream.Synchronize();
        _ring?.Passed(mark);
    }

    /// <summary>A 1-D launch of <paramref name="groups"/> groups of <paramref name="threads"/> threads with <paramref name="sharedFloats"/> floats of dynamic shared memory.</summary>
    private static KernelConfig Groups(int groups, int threads, int sharedFloats = 0) =>
        sharedFloats > 0
            ? new KernelConfig(new Index1D(groups), new Index1D(threads), SharedMemoryConfig.RequestDynamic<float>(sharedFloats))
            : new KernelConfig(new Index1D(groups), new Index1D(threads));

    /// <summary>Releases every buffer, the compiled kernels and the accelerator.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _acc.Synchronize();
        _ring?.Dispose();
        _splitCounters?.Dispose();
        _pool.Dispose();
        _stream.Dispose();
        _acc.Dispose();
        _context.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({AcceleratorName})";
}
