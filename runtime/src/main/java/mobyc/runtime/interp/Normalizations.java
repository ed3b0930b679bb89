package mobyc.runtime.interp;

import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * softmax, log_softmax, layer_norm, batch_norm, l2_normalize and cross_entropy, as PyTorch defines them, each
 * statistic accumulated in double and every result rounded once to float.
 *
 * <p>Ops along one axis view the tensor as [outer, n, inner]: element (o, k, i) is at (o * n + k) * inner + i.
 */
final class Normalizations {
    private Normalizations() {}

    /** The [outer, n, inner] view of a tensor around one axis. */
    private record Axis(long outer, long n, long inner) {
        static Axis of(Tensor x, int axis) {
            long[] s = x.shape();
            int a = Layout.axis(axis, s.length);
            return new Axis(Layout.product(s, 0, a), s[a], Layout.product(s, a + 1, s.length));
        }

        long at(long o, long k, long i) { return (o * n + k) * inner + i; }
    }

    static void softmax(int axis, Tensor x, Tensor out, boolean log) {
        Axis v = Axis.of(x, axis);
        for (long o = 0; o < v.outer; o++) {
            for (long i = 0; i < v.inner; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (long k = 0; k < v.n; k++) max = Math.max(max, x.getFloat(v.at(o, k, i)));
                double sum = 0;
                for (long k = 0; k < v.n; k++) sum += Math.exp(x.getFloat(v.at(o, k, i)) - max);
                double logSum = Math.log(sum);
                for (long k = 0; k < v.n; k++) {
                    double shifted = x.getFloat(v.at(o, k, i)) - max;
                    out.setFloat(v.at(o, k, i), (float) (log ? shifted - logSum : Math.exp(shifted) / sum));
                }
            }
        }
    }

    /** Over the last axis: (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance. */
    static void layerNorm(double eps, Tensor x, Tensor weight, Tensor bias, Tensor out) {
        long c = weight.numel(), rows = c == 0 ? 0 : x.numel() / c;
        for (long r = 0; r < rows; r++) {
            long base = r * c;
            double mean = rowMean(x, base, c), rstd = rowRstd(x, base, c, mean, eps);
            for (long j = 0; j < c; j++)
                out.setFloat(base + j, (float) ((x.getFloat(base + j) - mean) * rstd * weight.getFloat(j) + bias.getFloat(j)));
        }
    }

    private static double rowMean(Tensor x, long base, long c) {
        double mean = 0;
        for (long j = 0; j < c; j++) mean += x.getFloat(base + j);
        return mean / c;
    }

    /** 1 / sqrt(biased variance + eps) of one row. */
    private static double rowRstd(Tensor x, long base, long c, double mean, double eps) {
        double var = 0;
        for (long j = 0; j < c; j++) {
            double d = x.getFloat(base + j) - mean;
            var += d * d;
        }
        return 1.0 / Math.sqrt(var / c + eps);
    }

    /** The input gradient of layer_norm (see Op.LayerNormGrad), in double per row, plus {@code addend} when not null. */
    static void layerNormGrad(double eps, Tensor x, Tensor weight, Tensor g, Tensor addend, Tensor out) {
        long c = weight.numel(), rows = c == 0 ? 0 : x.numel() / c;
        for (long r = 0; r < rows; r++) {
            long base = r * c;
            double mean = rowMean(x, base, c), rstd = rowRstd(x, base, c, mean, eps);
            double m1 = 0, m2 = 0;
            for (long j = 0; j < c; j++) {
                double gh = (double) g.getFloat(base + j) * weight.getFloat(j);
                m1 += gh;
                m2 += gh * (x.getFloat(base + j) - mean) * rstd;
            }
            m1 /= c;
            m2 /= c;
            for (long j = 0; j < c; j++) {
                double gh = (double) g.getFloat(base + j) * weight.getFloat(j), xhat = (x.getFloat(base + j) - mean) * rstd;
                double gx = rstd * (gh - m1 - xhat * m2);
                out.setFloat(base + j, (float) (addend == null ? gx : gx + addend.getFloat(base + j)));
            }
        }
    }

    /** layer_norm's weight and bias gradients (see Op.LayerNormParamGrad): out[0, j] = sum of g xhat, out[1, j] = sum of g, in double. */
    static void layerNormParamGrad(double eps, Tensor x, Tensor g, Tensor out) {
        long c = out.numel() / 2, rows = c == 0 ? 0 : x.numel() / c;
        double[] gw = new double[(int) c], gb = new double[(int) c];
        for (long r = 0; r < rows; r++) {
            long base = r * c;
            double mean = rowMean(x, base, c), rstd = rowRstd(x, base, c, mean, eps);
            for (int j = 0; j < c; j++) {
                double gj = g.getFloat(base + j);
                gw[j] += gj * ((x.getFloat(base + j) - mean) * rstd);
                gb[j] += gj;
            }
        }
        for (int j = 0; j < c; j++) {
            out.setFloat(j, (float) gw[j]);
            out.setFloat(c + j, (float) gb[j]);
        }
    }

    /** (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c], c the index along the channel axis. */
    static void batchNorm(Op.BatchNorm op, Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, Tensor out) {
        Axis v = Axis.of(x, op.axis());
        for (long o = 0; o < v.outer; o++) {
            for (long c = 0; c < v.n; c++) {
                double m = mean.getFloat(c), scale = weight.getFloat(c) / Math.sqrt(var.getFloat(c) + op.eps()), b = bias.getFloat(c);
                for (long i = 0; i < v.inner; i++) {
                    long at = v.at(o, c, i);
                    out.setFloat(at, (float) ((x.getFloat(at) - m) * scale + b));
                }
            }
        }
    }

    /** x / max(||x||_2, eps) along the axis. */
    static void l2Normalize(Op.L2Normalize op, Tensor x, Tensor out) {
        Axis v = Axis.of(x, op.axis());
        for (long o = 0; o < v.outer; o++) {
            for (long i = 0; i < v.inner; i++) {
                double sum = 0;
                for (long k = 0; k < v.n; k++) {
                    double e = x.getFloat(v.at(o, k, i));
                    sum += e * e;
                }
                double norm = Math.max(Math.sqrt(sum), op.eps());
                for (long k = 0; k < v.n; k++) out.setFloat(v.at(o, k, i), (float) (x.getFloat(v.at(o, k, i)) / norm));
            }
        }
    }

    /** Per example: logsumexp(logits[n]) - logits[n, label[n]]. A label outside [0, C) is an error. */
    static void crossEntropy(Tensor logits, Tensor labels, Tensor out) {
        long n = logits.dim(0), c = logits.dim(1);
        for (long e = 0; e < n; e++) {
            int label = labels.getInt(e);
            if (label < 0 || label >= c)
                throw new IllegalArgumentException("cross_entropy: label " + label + " of example " + e + " is out of range [0, " + c + ")");
            double max = Double.NEGATIVE_INFINITY;
            for (long k = 0; k < c; k++) max = Math.max(max, logits.getFloat(e * c + k));
            double sum = 0;
            for (long k = 0; k < c; k++) sum += Math.exp(logits.getFloat(e * c + k) - max);
            out.setFloat(e, (float) (max + Math.log(sum) - logits.getFloat(e * c + label)));
        }
    }
}
