namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Strided batched single-precision GEMM on row-major matrices: for each of <paramref name="batch"/>
    /// matrices, C[i,j] = α·Σ_p op(A)[i,p]·op(B)[p,j] + β·C[i,j] with i &lt; m, j &lt; n, p &lt; k.
    /// op(A) is m×k: A is stored m×k (row stride <paramref name="lda"/>), or k×m when
    /// <paramref name="transA"/>; likewise op(B) is k×n, stored k×n or n×k when <paramref name="transB"/>.
    /// Matrix b of the batch starts at offset + b·stride (a stride of 0 shares one matrix).
    /// With β = 0 the old contents of C are ignored, even NaN or infinity. With <paramref name="bias"/> (n values, β
    /// must be 0) each row of C gets bias[j] added to its product: C[i,j] = α·Σ op(A)op(B) + bias[j], rounded as
    /// writing the bias into C first and accumulating onto it with β = 1, and a GPU adds it in the epilogue.
    /// </summary>
    /// <param name="transA">Read A transposed.</param>
    /// <param name="transB">Read B transposed.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The summed dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Storage of A.</param>
    /// <param name="aOffset">First element of the first A.</param>
    /// <param name="lda">Row stride of A as stored (≥ its column count).</param>
    /// <param name="b">Storage of B.</param>
    /// <param name="bOffset">First element of the first B.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="beta">Scale of the old C (0 overwrites).</param>
    /// <param name="c">Storage of C; must not overlap A or B.</param>
    /// <param name="cOffset">First element of the first C.</param>
    /// <param name="ldc">Row stride of C (≥ n).</param>
    /// <param name="batch">Number of independent products.</param>
    /// <param name="strideA">Elements between consecutive A matrices.</param>
    /// <param name="strideB">Elements between consecutive B matrices.</param>
    /// <param name="strideC">Elements between consecutive C matrices (their regions must not overlap).</param>
    /// <param name="bias">A per-column bias of n values added to every row of every C, or null.</param>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb, float beta,
        DeviceBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC, DeviceBuffer? bias = null);
}
