package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Diff.randn;
import static mobyc.runtime.cpu.Diff.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** Data movement is exact: every case compares bit for bit with interp, in f32 and in i32. */
class CpuMovementTest {
    private static void check(String what, Op op, long[] out, Tensor... in) {
        Diff.check(what, op, in[0].dtype(), out, 0, 0, in);
    }

    private static Tensor ints(long seed, long... shape) { return Diff.randint(seed, 1 << 20, shape); }

    private static long[] permuted(long[] s, int[] perm) {
        long[] o = new long[perm.length];
        for (int i = 0; i < perm.length; i++) o[i] = s[perm[i]];
        return o;
    }

    @Test
    void permuteMatchesInterp() {
        Object[][] cases = {
            {shape(13, 207), new int[] {1, 0}},
            {shape(207, 25), new int[] {1, 0}},
            {shape(1, 4098), new int[] {1, 0}},
            {shape(3, 25, 13), new int[] {0, 2, 1}},
            {shape(2, 3, 33, 65), new int[] {0, 1, 3, 2}},
            {shape(2, 13, 3, 8), new int[] {0, 2, 1, 3}},      // heads: [B, N, H, D] -> [B, H, N, D]
            {shape(2, 4, 7, 4, 7, 5), new int[] {0, 1, 3, 2, 4, 5}}, // windows
            {shape(2, 3, 4, 5), new int[] {3, 2, 1, 0}},
            {shape(5, 1, 7), new int[] {1, 2, 0}},
            {shape(2, 3, 4), new int[] {0, 1, 2}},
            {shape(400, 300), new int[] {1, 0}},
            {shape(2, 3, 4, 2, 5, 2), new int[] {0, 2, 4, 1, 3, 5}}, // patches: runs of 2 through an offset table
            {shape(37, 3, 16, 2, 15, 2), new int[] {0, 2, 4, 1, 3, 5}}, // the same over parallel chunks, not starting at image rows
            {shape(3, 3, 6, 7), new int[] {0, 2, 3, 1}},       // a 3-channel image made channels-last
            {shape(), new int[] {}},
        };
        for (Object[] c : cases) {
            long[] s = (long[]) c[0];
            int[] perm = (int[]) c[1];
            check("permute " + Arrays.toString(s) + " " + Arrays.toString(perm), new Op.Permute(perm), permuted(s, perm), randn(1, s));
            check("permute i32 " + Arrays.toString(s), new Op.Permute(perm), permuted(s, perm), ints(1, s));
        }
    }

    @Test
    void expandMatchesInterp() {
        long[][][] cases = {{{1}, {4098}}, {{207}, {13, 207}}, {{13, 1}, {13, 25}}, {{3, 1, 5}, {2, 3, 4, 5}}, {{}, {3, 2}}, {{1, 1}, {1, 1}},
            {{1, 70_000}, {8, 70_000}}};
        for (long[][] c : cases) {
            check("expand " + Arrays.toString(c[0]) + " to " + Arrays.toString(c[1]), new Op.Expand(), c[1], randn(1, c[0]));
            check("expand i32 " + Arrays.toString(c[0]), new Op.Expand(), c[1], ints(1, c[0]));
        }
    }

    @Test
    void sliceMatchesInterp() {
        long[] s = shape(5, 13, 25);
        long[][] specs = {{0, 2, 9, 1}, {1, 3, 11, 2}, {2, 0, 25, 3}, {2, -7, Long.MAX_VALUE, 1}, {-1, 1, 24, 4}, {0, 0, 5, 1}, {1, 5, 5, 1}};
        for (long[] p : specs) {
            int axis = (int) p[0];
            int a = axis < 0 ? axis + 3 : axis;
            long len = s[a], start = Math.clamp(p[1] < 0 ? p[1] + len : p[1], 0, len), end = Math.clamp(p[2] < 0 ? p[2] + len : p[2], 0, len);
            long[] o = s.clone();
            o[a] = Math.max(0, (end - start + p[3] - 1) / p[3]);
            Op.Slice op = new Op.Slice(axis, p[1], p[2], p[3]);
            check("slice " + op.attrs(), op, o, randn(2, s));
            check("slice i32 " + op.attrs(), op, o, ints(2, s));
        }
    }

    @Test
    void concatMatchesInterp() {
        for (int axis : new int[] {0, 1, 2, -1}) {
            List<long[]> shapes = List.of(shape(3, 5, 7), shape(3, 5, 7), shape(3, 5, 7));
            Tensor[] parts = new Tensor[3];
            long[] out = shape(3, 5, 7);
            int a = axis < 0 ? axis + 3 : axis;
            for (int i = 0; i < 3; i++) {
                long[] ps = shapes.get(i).clone();
                ps[a] = i + 1;
                parts[i] = randn(i, ps);
            }
            out[a] = 6;
            check("concat axis " + axis, new Op.Concat(axis), out, parts);
        }
        check("concat i32 big", new Op.Concat(1), shape(8, 140_000), ints(1, 8, 70_000), ints(2, 8, 70_000));
    }

    @Test
    void rollMatchesInterp() {
        long[] s = shape(3, 7, 13);
        int[][][] cases = {{{1}, {2}}, {{-3}, {1}}, {{3, -2}, {1, 2}}, {{20, 5, 4}, {0, 1, 2}}, {{0}, {0}}, {{2, 3}, {2, 2}}};
        for (int[][] c : cases) {
            Op.Roll op = new Op.Roll(c[0], c[1]);
            check("roll " + op.attrs(), op, s, randn(1, s));
            check("roll i32 " + op.attrs(), op, s, ints(1, s));
        }
        check("roll wide", new Op.Roll(new int[] {-5, 100}, new int[] {0, 1}), shape(64, 4098), randn(2, 64, 4098));
        long[] swin = shape(2, 4, 6, 5); // [B, H, W, C] rolled over H and W (whole rows of W * C move), or over B alone
        for (int[][] c : new int[][][] {{{-2, -2}, {1, 2}}, {{2, 2}, {1, 2}}, {{1}, {0}}, {{3}, {1}}})
            check("roll swin " + new Op.Roll(c[0], c[1]).attrs(), new Op.Roll(c[0], c[1]), swin, randn(3, swin));
    }

    @Test
    void padMatchesInterp() {
        long[] s = shape(2, 5, 7);
        long[][][] cases = {{{0, 1, 2}, {0, 3, 0}}, {{1, 0, 0}, {2, 0, 1}}, {{0, 0, 0}, {0, 0, 0}}, {{0, 0, 13}, {0, 0, 25}}};
        for (long[][] c : cases) {
            long[] o = s.clone();
            for (int i = 0; i < 3; i++) o[i] += c[0][i] + c[1][i];
            check("pad " + Arrays.toString(c[0]), new Op.Pad(c[0], c[1], -1.5), o, randn(1, s));
            check("pad zero " + Arrays.toString(c[0]), new Op.Pad(c[0], c[1], 0), o, randn(1, s));
            check("pad i32 " + Arrays.toString(c[0]), new Op.Pad(c[0], c[1], 7), o, ints(1, s));
        }
    }

    @Test
    void gatherMatchesInterpAndRefusesBadIndices() {
        Tensor table = randn(1, 50, 13), index = Diff.randint(3, 50, 4, 25);
        check("gather", new Op.Gather(), shape(4, 25, 13), table, index);
        check("gather 1-D", new Op.Gather(), shape(207), randn(2, 50), Diff.randint(4, 50, 207));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Diff.cpu(new Op.Gather(), DType.F32, shape(2, 13), table, Tensor.ofInts(new int[] {3, 50}, 2)));
        assertEquals("gather: index 50 at position 1 is out of range [0, 50)", e.getMessage());
    }

    @Test
    void copiesMatchInterp() {
        for (int n : Diff.SIZES) {
            check("reshape " + n, new Op.Reshape(), shape(n, 1), randn(n, n));
            check("stop_gradient " + n, new Op.StopGradient(), shape(n), randn(n, n));
        }
    }
}
