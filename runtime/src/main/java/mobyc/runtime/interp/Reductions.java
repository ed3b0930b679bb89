package mobyc.runtime.interp;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * reduce_sum, reduce_mean and reduce_max over any set of axes. Float sums accumulate in double; integer sums in
 * long, wrapped to int32. Max propagates NaN, as torch.amax does.
 */
final class Reductions {
    private Reductions() {}

    static void reduce(Op.Reduce r, Tensor x, Tensor out) {
        long[] shape = x.shape();
        boolean[] reduced = new boolean[shape.length];
        for (int a : r.axes()) reduced[Layout.axis(a, shape.length)] = true;
        // Index the output through keptShape (reduced axes of size 1: the same flat order as the output) and the
        // reduced sub-space through reducedShape (kept axes of size 1); both walk the input with its own strides.
        long[] keptShape = shape.clone(), reducedShape = shape.clone();
        for (int i = 0; i < shape.length; i++) {
            if (reduced[i]) keptShape[i] = 1;
            else reducedShape[i] = 1;
        }
        long[] strides = Layout.strides(shape);
        long count = Layout.numel(reducedShape);
        if (count == 0 && r.fn() == Op.ReduceFn.MAX && out.numel() > 0)
            throw new IllegalArgumentException("reduce_max over an empty axis of a tensor of shape " + x.shapeString());
        for (long o = 0, n = out.numel(); o < n; o++) {
            long base = Layout.offset(o, keptShape, strides);
            if (x.dtype() == DType.F32) out.setFloat(o, reduceFloat(r.fn(), x, base, count, reducedShape, strides));
            else out.setInt(o, reduceInt(r.fn(), x, base, count, reducedShape, strides));
        }
    }

    private static float reduceFloat(Op.ReduceFn fn, Tensor x, long base, long count, long[] reducedShape, long[] strides) {
        if (fn == Op.ReduceFn.MAX) {
            float m = Float.NEGATIVE_INFINITY;
            for (long k = 0; k < count; k++) {
                float v = x.getFloat(base + Layout.offset(k, reducedShape, strides));
                if (v > m || Float.isNaN(v)) m = v;
                if (Float.isNaN(m)) break;
            }
            return m;
        }
        double sum = 0;
        for (long k = 0; k < count; k++) sum += x.getFloat(base + Layout.offset(k, reducedShape, strides));
        return (float) (fn == Op.ReduceFn.MEAN ? sum / count : sum);
    }

    private static int reduceInt(Op.ReduceFn fn, Tensor x, long base, long count, long[] reducedShape, long[] strides) {
        if (fn == Op.ReduceFn.MAX) {
            int m = Integer.MIN_VALUE;
            for (long k = 0; k < count; k++) m = Math.max(m, x.getInt(base + Layout.offset(k, reducedShape, strides)));
            return m;
        }
        if (fn == Op.ReduceFn.MEAN) throw new IllegalStateException("reduce_mean needs a floating-point tensor");
        long sum = 0;
        for (long k = 0; k < count; k++) sum += x.getInt(base + Layout.offset(k, reducedShape, strides));
        return (int) sum;
    }
}
