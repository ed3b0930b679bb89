package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
import org.junit.jupiter.api.Test;

class ParameterStoreTest {
    private static Graph model() {
        GraphBuilder g = new GraphBuilder("m");
        Node x = g.input("x", DType.F32, Shape.of(Dim.sym("B"), Dim.of(2)));
        Node w = g.param("fc.weight", DType.F32, Shape.of(2, 2), new Init.Normal(0, 1));
        Node b = g.param("fc.bias", DType.F32, Shape.of(2), new Init.Constant(0.5));
        Node n = g.state("steps", DType.I32, Shape.SCALAR, new Init.Zeros());
        g.output("y", g.add(g.matmul(x, w), b));
        g.update("steps", g.add(n, g.constant(1, DType.I32)));
        return g.build();
    }

    @Test
    void initialiseFillsEveryParamAndStateInGraphOrder() {
        ParameterStore s = ParameterStore.initialise(model(), 3);
        assertEquals(List.of("fc.weight", "fc.bias"), List.copyOf(s.params().keySet()));
        assertEquals(List.of("steps"), List.copyOf(s.states().keySet()));
        assertArrayEquals(new float[] {0.5f, 0.5f}, s.params().get("fc.bias").toFloatArray());
        assertArrayEquals(ParameterStore.initialise(model(), 3).params().get("fc.weight").toFloatArray(),
                s.params().get("fc.weight").toFloatArray(), "deterministic");
        assertEquals(DType.I32, s.states().get("steps").dtype());
    }

    @Test
    void refusesSymbolicParameterShapes() {
        GraphBuilder g = new GraphBuilder("bad");
        Node p = g.param("queue", DType.F32, Shape.of(Dim.sym("K"), Dim.of(4)), new Init.Zeros());
        g.output("q", p);
        var e = assertThrows(IllegalArgumentException.class, () -> ParameterStore.initialise(g.build(), 0));
        assertTrue(e.getMessage().contains("'queue'") && e.getMessage().contains("[K, 4]"), e.getMessage());
    }

    @Test
    void loadCopiesValuesWhenEverythingFits() {
        ParameterStore s = ParameterStore.initialise(model(), 3);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("fc.weight", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
        w.put("fc.bias", Tensor.of(new float[] {5, 6}, 2));
        w.put("steps", Tensor.ofInts(new int[] {9}));
        s.load(w, "ok.safetensors");
        assertArrayEquals(new float[] {1, 2, 3, 4}, s.params().get("fc.weight").toFloatArray());
        assertEquals(9, s.states().get("steps").getInt(0));
        w.get("fc.bias").setFloat(0, 100);
        assertEquals(5f, s.params().get("fc.bias").getFloat(0), "the store holds a copy");
    }

    @Test
    void loadReportsEveryProblemAndLoadsNothing() {
        ParameterStore s = ParameterStore.initialise(model(), 3);
        float[] before = s.params().get("fc.weight").toFloatArray();
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("fc.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        w.put("fc.bias", Tensor.ofInts(new int[] {5, 6}, 2));
        w.put("head.weight", Tensor.zeros(DType.F32, 1));
        // "steps" is missing
        var e = assertThrows(WeightsException.class, () -> s.load(w, "bad.safetensors"));
        assertEquals("bad.safetensors", e.source());
        assertEquals(List.of(
                "fc.bias: dtype i32, the model expects f32",
                "fc.weight: shape [2, 3], the model expects [2, 2]",
                "head.weight: unexpected (the model has no such parameter or state)",
                "steps: missing"), e.problems());
        assertTrue(e.getMessage().startsWith("weights from bad.safetensors do not fit the model (4 problems)"), e.getMessage());
        assertArrayEquals(before, s.params().get("fc.weight").toFloatArray(), "nothing was loaded");
    }
}
