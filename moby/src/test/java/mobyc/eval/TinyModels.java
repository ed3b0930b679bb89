package mobyc.eval;

import java.util.Map;
import java.util.Random;
import mobyc.compiler.ir.Graph;
import mobyc.data.ImageDataset;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;

/** A small feature extractor written in .moby, the same inside a larger model, and random image sets. */
final class TinyModels {
    private TinyModels() {}

    static final String SOURCE = """
            import "nn.moby";

            module TinyNet(size: int = 6, dim: int = 5) {
                param w: [size * size, dim] = normal(std=0.2);
                let bn = BatchNorm(dim=dim);
                fn features(x: [B, 1, size, size]) -> [B, dim] {
                    return bn(reshape(x, [B, size * size]) @ w);
                }
                fn doubled(x: [B, 1, size, size]) -> [B, 1, size, size] {
                    return x * 2.0;
                }
                fn forward(x: [B, 1, size, size]) -> [B, dim] {
                    return features(x);
                }
            }

            module Outer(size: int = 6, dim: int = 5) {
                let encoder = TinyNet(size=size, dim=dim);
                let head = Linear(in_features=dim, out_features=3);
                fn forward(x: [B, 1, size, size]) -> [B, 3] {
                    return head(encoder(x));
                }
            }
            """;

    static Graph build(String entry, String function, boolean training, Map<String, Value> sets) {
        return build(SOURCE, entry, function, training, sets);
    }

    /** The forward graph (eval mode) of {@code module} in {@code source}. */
    static Graph buildFrom(String source, String module, Map<String, Value> sets) {
        return build(source, module, "forward", false, sets);
    }

    static Graph build(String source, String entry, String function, boolean training, Map<String, Value> sets) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.loadSource("tiny.moby", source, d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request(entry, function, sets, training));
        if (b == null) throw new AssertionError(c.diagnostics().format());
        return b.graph();
    }

    static Graph features() { return build("TinyNet", "features", false, Map.of()); }

    /** {@code n} random 6x6 grey images, labels {@code i mod classes}. */
    static ImageDataset images(int n, int classes, long seed) {
        Random rnd = new Random(seed);
        byte[] pixels = new byte[n * 36];
        rnd.nextBytes(pixels);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % classes;
        return ImageDataset.of(pixels, labels, 1, 6, 6, classes, "random " + n);
    }
}
