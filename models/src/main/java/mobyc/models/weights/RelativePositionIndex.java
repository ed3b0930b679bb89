package mobyc.models.weights;

import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;

/**
 * The relative_position_index buffer of Swin's window attention: for query token i and key token j of a w x w
 * window, the row of the bias table, {@code (hi - hj + w - 1) * (2w - 1) + (wi - wj + w - 1)}. mobyc computes it
 * (models/swin.moby, WindowAttention.relative_position_index), so checkpoints' copies are checked and dropped.
 * The official release and mmdet store it as [n, n] (n = w * w), torchvision flat as [n * n].
 */
final class RelativePositionIndex {
    private RelativePositionIndex() {}

    /** The index of a {@code window} x {@code window} window, flat, row-major over (i, j). */
    static int[] compute(int window) {
        int n = window * window;
        int[] out = new int[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                out[i * n + j] = (i / window - j / window + window - 1) * (2 * window - 1) + (i % window - j % window + window - 1);
        return out;
    }

    /** The window whose bias table has {@code rows} rows ((2w - 1)^2), or -1. */
    static int windowOfTable(long rows) {
        long side = Math.round(Math.sqrt((double) rows));
        return side * side == rows && side % 2 == 1 ? (int) (side + 1) / 2 : -1;
    }

    /** The flat index as an i32 tensor [n * n], as torchvision stores it. */
    static Tensor flat(int window) {
        int[] v = compute(window);
        return Tensor.ofInts(v, v.length);
    }

    /** Throws unless {@code index} (named {@code key}; any shape of n^2 elements) equals the computed index. */
    static void check(String key, Tensor index) {
        long numel = index.numel();
        long window = Math.round(Math.sqrt(Math.sqrt((double) numel)));
        if (window < 1 || window * window * window * window != numel)
            throw new KeyMapException(key + ": " + numel + " elements, not the (w*w)^2 of a square w x w window");
        int[] expected = compute((int) window);
        for (int i = 0; i < expected.length; i++) {
            long got = index.dtype() == DType.I32 ? index.getInt(i) : (long) index.getFloat(i);
            if (got != expected[i])
                throw new KeyMapException(key + ": element " + i + " is " + got + ", but the " + window + "x" + window
                        + " window's relative position index (the official Swin release's, which mobyc computes) has " + expected[i]
                        + " there; the bias tables of these weights would be read wrongly");
        }
    }
}
