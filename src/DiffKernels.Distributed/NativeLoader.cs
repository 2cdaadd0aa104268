using System.Runtime.InteropServices;

namespace DiffKernels.Distributed;

/// <summary>
/// Opens a system library by name at run time, with its symbols global: Open MPI's plug-ins resolve libmpi's symbols
/// from the global scope, which a plain (local) load hides from them.
/// </summary>
internal static partial class NativeLoader
{
    private const int RtldNow = 2, RtldGlobal = 0x100;

    /// <summary>A handle to the first of <paramref name="names"/> that loads; the error says what was tried and <paramref name="hint"/>.</summary>
    public static IntPtr Open(string[] names, string hint)
    {
        foreach (var name in names)
        {
            IntPtr handle = OperatingSystem.IsLinux() ? DlOpen(name, RtldNow | RtldGlobal) : IntPtr.Zero;
            if (handle != IntPtr.Zero || NativeLibrary.TryLoad(name, out handle)) return handle;
        }
        throw new DllNotFoundException($"none of {string.Join(", ", names)} could be loaded; {hint}");
    }

    /// <summary>The address of <paramref name="symbol"/> in <paramref name="library"/> (a function or a global).</summary>
    public static IntPtr Symbol(IntPtr library, string symbol, string libraryName) =>
        NativeLibrary.TryGetExport(library, symbol, out var address) ? address
            : throw new EntryPointNotFoundException($"{libraryName} has no symbol {symbol}");

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr DlOpen(string file, int mode);
}
