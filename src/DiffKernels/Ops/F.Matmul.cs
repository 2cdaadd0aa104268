using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// Matrix product. 2-D: [M, K] × [K, N] → [M, N]. Rank ≥ 3: a batch of products over the leading
    /// dimensions, which must equal b's, or b is 2-D and shared by every matrix of a.
    /// </summary>
    public static Tensor Matmul(Tensor a, Tensor b) => Matmul(a, b, false, false);

    /// <summary>
    /// <see cref="Matmul(Tensor, Tensor)"/> of op(a)·op(b), where a transpose flag swaps the last two
    /// dimensions of that operand (read in place, never materialised).
    /// </summary>
    public static Tensor Matmul(Tensor a, Tensor b, bool transA, bool transB)
    {
        const string op = "Matmul";
        SameDevice(op, a, b);
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"{op}: a {a.Shape} and b {b.Shape} must both have rank ≥ 2");
        int m = a.Shape[transA ? -1 : -2], k = a.Shape[transA ? -2 : -1];
        int kb = b.Shape[transB ? -1 : -2], n = b.Shape[transB ? -2 : -1];
        if (k != kb)
            throw new ArgumentException($"{op}: inner dimensions differ: a {a.Shape}{(transA ? " transposed" : "")} has K = {k}, b {b.Shape}{(transB ? " transposed" : "")} has K = {kb}");
        bool sharedB = b.Rank == 2;
        if (!sharedB && (b.Rank != a.Rank || !a.Shape.ToArray()[..^2].SequenceEqual(b.Shape.ToArray()[..^2])))
            throw new ArgumentException($"{op}: batch dimensions of a {a.Shape} and b {b.Shape} differ (b must be 2-D or have a's leading dimensions)");
        int batch = (int)a.Shape.Prod(0, a.Rank - 2);
        var dims = a.Shape.ToArray();
        dims[^2] = m;
        dims[^1] = n;
        var y = Tensor.Empty(new Shape(dims), a.Device);
        long sa = (long)m * k, sb = sharedB ? 0 : (long)k * n, sc = (long)m * n;
        // A shared B under an untransposed A is one tall product: the batch folds into M.
        bool fold = sharedB && !transA;
        if (fold) MatGemm(a, 0, false, b, 0, transB, y, 0, batch * m, n, k, 1, 0, 0, 0, 0f);
        else MatGemm(a, 0, transA, b, 0, transB, y, 0, m, n, k, batch, sa, sb, sc, 0f);

        return Autograd.Graph.Record(y, "matmul", [a, b], dy =>
        {
            Tensor? da = null, db = null;
            if (a.RequiresGrad)
            {
                da = Tensor.Empty(a.Shape, a.Device);
                // d op(A) = dC·op(B)ᵀ; stored transposed, dA = op(B)·dCᵀ.
                if (fold) MatGemm(dy, 0, false, b, 0, !transB, da, 0, batch * m, k, n, 1, 0, 0, 0, 0f);
                else if (!transA) MatGemm(dy, 0, false, b, 0, !transB, da, 0, m, k, n, batch, sc, sb, sa, 0f);
                else MatGemm(b, 0, transB, dy, 0, true, da, 0, k, m, n, batch, sb, sc, sa, 0f);
            }
            if (b.RequiresGrad)
            {
                db = Tensor.Empty(b.Shape, b.Device);
                // d op(B) = op(A)ᵀ·dC; stored transposed, dB = dCᵀ·op(A). A shared B sums over the batch.
                if (fold)
                {
                    if (!transB) MatGemm(a, 0, true, dy, 0, false, db, 0, k, n, batch * m, 1, 0, 0, 0, 0f);
                    else MatGemm(dy, 0, true, a, 0, false, db, 0, n, k, batch * m, 1, 0, 0, 0, 0f);
                }
                else if (sharedB)
                {
                    for (int i = 0; i < batch; i++)
                    {
                        float beta = i == 0 ? 0f : 1f;
                        if (!transB) MatGemm(a, i * sa, !transA, dy, i * sc, false, db, 0, k, n, m, 1, 0, 0, 0, beta);
                        else MatGemm(dy, i * sc, true, a, i * sa, transA, db, 0, n, k, m, 1, 0, 0, 0, beta);
                    }
                    if (batch == 0) Zero(db);
                }
                else if (!transB) MatGemm(a, 0, !transA, dy, 0, false, db, 0, k, n, m, batch, sa, sc, sb, 0f);
                else MatGemm(dy, 0, true, a, 0, transA, db, 0, n, k, m, batch, sc, sa, sb, 0f);
            }
            return [da, db];
        });
    }

    /// <summary>
    /// Linear layer y = x·wᵀ + b with PyTorch's layout: x [..., in], w [out, in], b [out] → [..., out].
    /// The bias goes to the GEMM, which adds it as it stores the product (one pass, one launch on a GPU).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor w, Tensor? b = null)
    {
        const string op = "Linear";
        if (b != null) SameDevice(op, x, w, b);
        else SameDevice(op, x, w);
        if (w.Rank != 2) throw new ArgumentException($"{op}: weight {w.Shape} must be 2-D [out, in]");
        if (x.Rank < 1 || x.Shape[-1] != w.Shape[1])
            throw new ArgumentException($"{op}: input {x.Shape} must end in in = {w.Shape[1]} to match weight {w.Shape}");
        int inF = w.Shape[1], outF = w.Shape[0];
        if (b != null && (b.Rank != 1 || b.Shape[0] != outF))
            throw new ArgumentException($"{op}: bias {b.Shape} must be [{outF}] to match weight {w.Shape}");
        int rows = (int)x.Shape.Prod(0, x.Rank - 1);
        var y = Tensor.Empty(x.Shape.With(x.Rank - 1, outF), x.Device);
        MatGemm(x, 0, false, w, 0, true, y, 0, rows, outF, inF, 1, 0, 0, 0, 0f, b);

        Tensor[] inputs = b != null ? [x, w, b] : [x, w];
        return Autograd.Graph.Record(y, "linear", inputs, dy =>
        {
            Tensor? dx = null, dw = null, dbias = null;
            if (x.RequiresGrad)
            {
                dx = Tensor.Empty(x.Shape, x.Device);
                MatGemm(dy, 0, false, w, 0, false, dx, 0, rows, inF, outF, 1, 0, 0, 0, 0f);
            }
            if (w.RequiresGrad)
            {
                dw = Autograd.GradTarget.For(w);
                MatGemm(dy, 0, true, x, 0, false, dw, 0, outF, inF, rows, 1, 0, 0, 0, 0f);
            }
            if (b is { RequiresGrad: true })
            {
                dbias = Autograd.GradTarget.For(b);
                x.Backend.Reduce(ReduceOp.Sum, dy.Storage, dbias.Storage, 1, rows, outF);
            }
            return b != null ? [dx, dw, dbias] : [dx, dw];
        });
    }

    /// <summary>
    /// c = op(a)·op(b) + β·c on contiguous operands: op(a) is m×k, op(b) is k×n, leading dimensions follow
    /// from the stored shapes; offsets and strides are in elements.
    /// </summary>
    internal static void MatGemm(Tensor a, long aOff, bool ta, Tensor b, long bOff, bool tb, Tensor c, long cOff,
        int m, int n, int k, int batch, long strideA, long strideB, long strideC, float beta, Tensor? bias = null)
    {
        a.Backend.Gemm(ta, tb, m, n, k, 1f, a.Storage, aOff, ta ? m : k, b.Storage, bOff, tb ? k : n, beta,
            c.Storage, cOff, n, batch, strideA, strideB, strideC, bias?.Storage);
    }

    private static void Zero(Tensor t) => t.Backend.Fill(t.Storage, 0, t.Numel, 0f);
}
