using DiffKernels.Backends;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    private static IEnumerable<OpCase> Memory()
    {
        const string f = "memory";
        yield return Case(f, "fill", c => [Tensor.Full([3, 37], 1.5f, c.Device)], 0);
        yield return Case(f, "upload/download", c =>
        {
            var x = c.Uniform([5, 9]);
            x.Backend.Synchronize();
            return [x];
        }, 0);
        yield return Case(f, "copy", c =>
        {
            var x = c.Param(4, 6);
            return c.WithGrads(F.Copy(x), x);
        }, 0);
        yield return Case(f, "permute rank 4", c =>
        {
            var x = c.Param(2, 3, 4, 5);
            return c.WithGrads(F.Permute(x, 3, 1, 0, 2), x);
        }, 0);
        yield return Case(f, "permute rank 5", c =>
        {
            var x = c.Param(2, 3, 2, 4, 3);
            return c.WithGrads(F.Permute(x, 4, 0, 3, 1, 2), x);
        }, 0);
        yield return Case(f, "narrow + slice", c =>
        {
            var x = c.Param(5, 7, 3);
            return c.WithGrads(F.Slice(F.Narrow(x, 1, 2, 4), 0, 1, 5, 2), x);
        }, 0);
        yield return Case(f, "concat", c =>
        {
            var a = c.Param(2, 3, 4);
            var b = c.Param(2, 5, 4);
            return c.WithGrads(F.Concat([a, b], 1), a, b);
        }, 0);
        yield return Case(f, "broadcast_to", c =>
        {
            var x = c.Param(3, 1, 4);
            return c.WithGrads(F.BroadcastTo(x, new Shape(2, 3, 5, 4)), x);
        });
    }

    private static IEnumerable<OpCase> Elementwise()
    {
        const string f = "elementwise";
        (string Name, Func<Tensor, Tensor, Tensor> Op, float Low, float High)[] binaries =
        [
            ("add", F.Add, -1, 1), ("sub", F.Sub, -1, 1), ("mul", F.Mul, -1, 1), ("div", F.Div, 0.5f, 2f),
            ("pow", F.Pow, 0.5f, 2f), ("maximum", F.Maximum, -1, 1), ("minimum", F.Minimum, -1, 1),
        ];
        foreach (var (name, op, low, high) in binaries)
        {
            yield return Case(f, $"{name} same shape", c =>
            {
                var a = c.Uniform([7, 13], low, high, grad: true);
                var b = c.Uniform([7, 13], low, high, grad: true);
                return c.WithGrads(op(a, b), a, b);
            });
            yield return Case(f, $"{name} broadcast", c =>
            {
                var a = c.Uniform([4, 1, 5], low, high, grad: true);
                var b = c.Uniform([3, 5], low, high, grad: true);
                return c.WithGrads(op(a, b), a, b);
            });
        }
        yield return Case(f, "equal broadcast", c => [F.Equal(c.Integers([4, 1, 6], 2), c.Integers([3, 6], 2))], 0);
        yield return Case(f, "greater broadcast", c => [F.Greater(c.Integers([4, 1, 6], 2), c.Integers([3, 6], 2))], 0);
        yield return Case(f, "add scalar tensor", c =>
        {
            var a = c.Param(2, 3, 4);
            var s = c.Param();
            return c.WithGrads(F.Add(a, s), a, s);
        });
        yield return Case(f, "sub scalar tensor first", c =>
        {
            var s = c.Param();
            var a = c.Param(3, 5);
            return c.WithGrads(F.Sub(s, a), s, a);
        });
        yield return Case(f, "where broadcast", c =>
        {
            var cond = c.Integers([3, 1, 5], 1);
            var a = c.Param(4, 5);
            var b = c.Param(3, 4, 1);
            return c.WithGrads(F.Where(cond, a, b), a, b);
        });

        (UnaryOp Op, float Low, float High, float Alpha, float Beta)[] unaries =
        [
            (UnaryOp.Neg, -2, 2, 0, 0), (UnaryOp.Exp, -2, 2, 0, 0), (UnaryOp.Log, 0.2f, 3, 0, 0), (UnaryOp.Sqrt, 0.2f, 3, 0, 0),
            (UnaryOp.Rsqrt, 0.2f, 3, 0, 0), (UnaryOp.Abs, -2, 2, 0, 0), (UnaryOp.Square, -2, 2, 0, 0), (UnaryOp.Relu, -2, 2, 0, 0),
            (UnaryOp.LeakyRelu, -2, 2, 0.2f, 0), (UnaryOp.Silu, -4, 4, 0, 0), (UnaryOp.Gelu, -4, 4, 0, 0), (UnaryOp.Sigmoid, -4, 4, 0, 0),
            (UnaryOp.Tanh, -3, 3, 0, 0), (UnaryOp.Softplus, -6, 6, 0, 0), (UnaryOp.AddScalar, -2, 2, 0.75f, 0),
            (UnaryOp.MulScalar, -2, 2, -1.5f, 0), (UnaryOp.PowScalar, 0.2f, 3, 2.5f, 0), (UnaryOp.Clamp, -2, 2, -0.5f, 0.7f),
        ];
        foreach (var (op, low, high, alpha, beta) in unaries)
            yield return Case(f, $"unary {op.ToString().ToLowerInvariant()}", c =>
            {
                var x = c.Uniform([5, 41], low, high, grad: true);
                return c.WithGrads(F.Unary(op, x, alpha, beta), x);
            });
    }

    private static IEnumerable<OpCase> Reductions()
    {
        const string f = "reduce";
        yield return Case(f, "sum middle axis", c =>
        {
            var x = c.Param(4, 5, 6);
            return c.WithGrads(F.Sum(x, [1]), x);
        });
        yield return Case(f, "sum all (row kernel)", c =>
        {
            var x = c.Param(9, 23);
            return c.WithGrads(F.Sum(x), x);
        });
        yield return Case(f, "sum long axis (chunked)", c =>
        {
            var x = c.Param(1, 600, 3);
            return c.WithGrads(F.Sum(x, [1]), x);
        });
        yield return Case(f, "mean last axes", c =>
        {
            var x = c.Param(3, 4, 70);
            return c.WithGrads(F.Mean(x, [1, 2]), x);
        });
        yield return Case(f, "max with ties", c =>
        {
            var x = c.Integers([4, 7, 3], 2, grad: true);
            return c.WithGrads(F.Max(x, [1]), x);
        });
        yield return Case(f, "min all", c =>
        {
            var x = c.Param(6, 11);
            return c.WithGrads(F.Min(x), x);
        });
        foreach (bool log in new[] { false, true })
        {
            string name = log ? "log_softmax" : "softmax";
            Func<Tensor, int, Tensor> op = log ? F.LogSoftmax : F.Softmax;
            yield return Case("softmax", $"{name} long rows", c =>
            {
                var x = c.Uniform([5, 70], -4, 4, grad: true);
                return c.WithGrads(op(x, -1), x);
            });
            yield return Case("softmax", $"{name} short rows", c =>
            {
                var x = c.Uniform([9, 5], -4, 4, grad: true);
                return c.WithGrads(op(x, -1), x);
            });
            yield return Case("softmax", $"{name} middle axis", c =>
            {
                var x = c.Uniform([3, 7, 5], -4, 4, grad: true);
                return c.WithGrads(op(x, 1), x);
            });
        }
    }
}
