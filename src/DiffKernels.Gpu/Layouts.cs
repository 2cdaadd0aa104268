using DiffKernels.Kernels;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu;

/// <summary>Builds the kernels' <see cref="Layout5"/> from a shape and up to three stride arrays.</summary>
internal static class Layouts
{
    /// <summary>
    /// Drops size-1 dimensions and merges neighbours that are contiguous for every operand (fewer
    /// index steps per element), then right-aligns the result into five slots.
    /// </summary>
    public static Layout5 Of(Shape shape, long[] a, long[] b, long[]? c = null)
    {
        Span<int> d = stackalloc int[5];
        Span<long> sa = stackalloc long[5], sb = stackalloc long[5], sc = stackalloc long[5];
        int r = 0;
        for (int k = 0; k < shape.Rank; k++)
        {
            if (shape[k] == 1) continue;
            long ck = c?[k] ?? 0;
            if (r > 0 && sa[r - 1] == a[k] * shape[k] && sb[r - 1] == b[k] * shape[k] && sc[r - 1] == ck * shape[k])
            {
                d[r - 1] *= shape[k];
                sa[r - 1] = a[k];
                sb[r - 1] = b[k];
                sc[r - 1] = ck;
            }
            else
            {
                d[r] = shape[k];
                sa[r] = a[k];
                sb[r] = b[k];
                sc[r] = ck;
                r++;
            }
        }
        var l = new Layout5 { D0 = 1, D1 = 1, D2 = 1, D3 = 1, D4 = 1 };
        int shift = 5 - r;
        for (int k = 0; k < r; k++) Set(ref l, k + shift, d[k], checked((int)sa[k]), checked((int)sb[k]), checked((int)sc[k]));
        return l;
    }

    /// <summary>True when the layout merged to its innermost dimension alone: element i sits at i·A4, i·B4, i·C4.</summary>
    public static bool IsFlat(in Layout5 l) => l.D0 == 1 && l.D1 == 1 && l.D2 == 1 && l.D3 == 1;

    private static void Set(ref Layout5 l, int slot, int dim, int a, int b, int c)
    {
        switch (slot)
        {
            case 0: l.D0 = dim; l.A0 = a; l.B0 = b; l.C0 = c; break;
            case 1: l.D1 = dim; l.A1 = a; l.B1 = b; l.C1 = c; break;
            case 2: l.D2 = dim; l.A2 = a; l.B2 = b; l.C2 = c; break;
            case 3: l.D3 = dim; l.A3 = a; l.B3 = b; l.C3 = c; break;
            default: l.D4 = dim; l.A4 = a; l.B4 = b; l.C4 = c; break;
        }
    }
}
