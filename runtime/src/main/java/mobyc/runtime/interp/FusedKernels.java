package mobyc.runtime.interp;

import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.kernel.Expr;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.runtime.Tensor;

/**
 * Evaluates a fused elementwise kernel one output element at a time by walking its body, each value rounded to its
 * dtype exactly as the unfused ops would round it ({@link Elementwise}'s functions), so a fused graph gives interp's
 * unfused results bit for bit. Inputs are read through NumPy broadcasting over the output's shape.
 */
public final class FusedKernels {
    private FusedKernels() {}

    public static void run(FusedKernel k, Tensor[] in, Tensor out) {
        long[] shape = out.shape();
        long[][] strides = new long[in.length][];
        for (int i = 0; i < in.length; i++) strides[i] = Layout.broadcastStrides(in[i].shape(), shape);
        List<Expr> body = k.body();
        int n = body.size();
        float[] f = new float[n];
        int[] iv = new int[n];
        for (long e = 0, numel = out.numel(); e < numel; e++) {
            for (int v = 0; v < n; v++) {
                Expr x = body.get(v);
                boolean flt = x.dtype() == DType.F32;
                switch (x) {
                    case Expr.Load l -> {
                        Tensor t = in[l.input()];
                        long at = Layout.offset(e, shape, strides[l.input()]);
                        if (flt) f[v] = t.getFloat(at); else iv[v] = t.getInt(at);
                    }
                    case Expr.Const c -> { if (flt) f[v] = (float) c.value(); else iv[v] = (int) c.value(); }
                    case Expr.Unary u -> { if (flt) f[v] = Elementwise.apply(u.fn(), f[u.x()]); else iv[v] = Elementwise.apply(u.fn(), iv[u.x()]); }
                    case Expr.Binary b -> {
                        if (flt) f[v] = Elementwise.apply(b.fn(), f[b.a()], f[b.b()]);
                        else iv[v] = Elementwise.apply(b.fn(), iv[b.a()], iv[b.b()]);
                    }
                    case Expr.Where w -> {
                        boolean take = body.get(w.cond()).dtype() == DType.F32 ? f[w.cond()] != 0f : iv[w.cond()] != 0;
                        int from = take ? w.a() : w.b();
                        f[v] = f[from]; // a and b share the result's dtype; both arrays carry it
                        iv[v] = iv[from];
                    }
                    case Expr.Cast c -> {
                        DType src = body.get(c.x()).dtype();
                        if (src == x.dtype()) { f[v] = f[c.x()]; iv[v] = iv[c.x()]; }
                        else if (flt) f[v] = (float) iv[c.x()];
                        else iv[v] = (int) f[c.x()];
                    }
                }
            }
            if (body.getLast().dtype() == DType.F32) out.setFloat(e, f[n - 1]); else out.setInt(e, iv[n - 1]);
        }
    }
}
