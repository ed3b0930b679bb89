package mobyc.compiler.ir;

/**
 * How a parameter or state tensor starts. Random initialisers draw from the counter-based generator keyed by
 * (seed, the tensor's path), so every backend produces the same starting values.
 */
public sealed interface Init {
    record Zeros() implements Init { @Override public String toString() { return "zeros()"; } }
    record Ones() implements Init { @Override public String toString() { return "ones()"; } }
    record Constant(double value) implements Init { @Override public String toString() { return "constant(" + Fmt.num(value) + ")"; } }
    /** Normal(mean, std) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_). */
    record TruncNormal(double mean, double std, double a, double b) implements Init {
        @Override public String toString() {
            return "trunc_normal(std=" + Fmt.num(std) + (mean != 0 ? ", mean=" + Fmt.num(mean) : "") + ", a=" + Fmt.num(a) + ", b=" + Fmt.num(b) + ")";
        }
    }
    record Normal(double mean, double std) implements Init {
        @Override public String toString() { return "normal(mean=" + Fmt.num(mean) + ", std=" + Fmt.num(std) + ")"; }
    }
    record Uniform(double low, double high) implements Init {
        @Override public String toString() { return "uniform(" + Fmt.num(low) + ", " + Fmt.num(high) + ")"; }
    }
    /** Normal(0, 1), then every slice along {@code axis} scaled to unit L2 norm (MoBY's key queues). */
    record UnitNormal(int axis) implements Init {
        @Override public String toString() { return "unit_normal(axis=" + axis + ")"; }
    }
    /**
     * A copy of the tensor at {@code from} (another parameter of the same graph), taken after that one is
     * initialised: the starting value of a momentum (EMA) target.
     */
    record Copy(String from) implements Init {
        @Override public String toString() { return "copy(" + from + ")"; }
    }
}
