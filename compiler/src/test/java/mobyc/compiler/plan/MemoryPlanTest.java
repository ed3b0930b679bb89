package mobyc.compiler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {
    @Test
    void aChainNeedsTwoBuffersNotOnePerKernel() {
        GraphBuilder b = new GraphBuilder("chain");
        Node x = b.input("x", DType.F32, Shape.of(Dim.sym("B"), Dim.of(256)));
        Node y = x;
        for (int i = 0; i < 10; i++) y = b.unary(Op.UnaryFn.EXP, y);
        b.output("out", y);
        Program p = Lower.lower(b.build());
        MemoryPlan plan = MemoryPlan.of(p, Map.of("B", 4L));
        long one = 4 * 256 * 4;
        assertEquals(10 * one, plan.naiveBytes());
        assertEquals(2 * one, plan.arenaBytes(), "each kernel reads the previous buffer and writes one more");
        assertEquals(one, plan.boundBytes());
        assertTrue(plan.summary(10).contains("arena (peak of temporaries) 8.0 KiB"), plan.summary(10));
    }

    /**
     * A dgelu product right after the gelu product of the same operands is written by that kernel ({@link Siblings}):
     * it lives from there, so it never shares bytes with what is alive while that kernel runs.
     */
    @Test
    void aSiblingLivesFromTheKernelThatWritesIt() {
        GraphBuilder b = new GraphBuilder("pair");
        Node x = b.input("x", DType.F32, Shape.of(64, 32));
        Node w = b.param("w", DType.F32, Shape.of(32, 32), new Init.Zeros());
        Node t = b.unary(Op.UnaryFn.EXP, x);
        Node g = b.add(new Op.MatMul(false, false, Op.Activation.GELU), List.of(t, w), null, null);
        Node d = b.add(new Op.MatMul(false, false, Op.Activation.DGELU), List.of(t, w), null, null);
        b.output("out", b.add(b.unary(Op.UnaryFn.EXP, d), g));
        Program p = Lower.lower(b.build());
        assertEquals(List.of(false, false, true, false, false), toList(Siblings.withPrevious(p)));
        int gb = p.kernels().get(1).output(), db = p.kernels().get(2).output();
        for (boolean outputsInArena : new boolean[] {true, false}) {
            MemoryPlan plan = MemoryPlan.of(p, Map.of(), outputsInArena);
            assertEquals(1, plan.first()[db], "written with the gelu product");
            assertTrue(plan.offsets()[gb] + plan.bytes()[gb] <= plan.offsets()[db] || plan.offsets()[db] + plan.bytes()[db] <= plan.offsets()[gb],
                    "the two outputs of one kernel share no bytes");
            int tb = p.kernels().get(0).output();
            assertTrue(plan.offsets()[tb] + plan.bytes()[tb] <= plan.offsets()[db] || plan.offsets()[db] + plan.bytes()[db] <= plan.offsets()[tb],
                    "nor does the derivative share the operand's");
        }
    }

    private static List<Boolean> toList(boolean[] a) {
        List<Boolean> l = new ArrayList<>();
        for (boolean v : a) l.add(v);
        return l;
    }

    @Test
    void buffersAliveAtTheSameTimeNeverShareBytes() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 40; trial++) {
            GraphBuilder b = new GraphBuilder("dag");
            List<Node> nodes = new ArrayList<>();
            nodes.add(b.input("x", DType.F32, Shape.of(8, 8)));
            nodes.add(b.param("w", DType.F32, Shape.of(8, 8), new Init.Zeros()));
            for (int i = 0; i < 200; i++) {
                Node a = nodes.get(rnd.nextInt(nodes.size())), c = nodes.get(rnd.nextInt(nodes.size()));
                nodes.add(switch (rnd.nextInt(7)) {
                    // temporaries of other sizes ([8, 16], [16, 8], [8, 24]) so that blocks split and coalesce unevenly
                    case 3 -> b.matmul(b.concat(List.of(a, c), 1), b.concat(List.of(c, a), 0));
                    case 4 -> b.slice(b.concat(List.of(a, c, a), 1), 1, 0, 8, 1);
                    case 5 -> b.reshape(b.slice(b.reshape(b.concat(List.of(a, c, a), 0), Shape.of(192)), 0, 64, 128, 1), Shape.of(8, 8)); // a view of c's copy
                    case 0 -> b.add(a, c);
                    case 1 -> b.matmul(a, c);
                    case 2 -> b.reshape(b.reshape(a, Shape.of(64)), Shape.of(8, 8)); // two aliases of a
                    default -> b.unary(Op.UnaryFn.TANH, a);
                });
            }
            b.output("out", nodes.getLast());
            b.output("mid", nodes.get(30));
            Program p = Lower.lower(b.build());
            MemoryPlan plan = MemoryPlan.of(p, Map.of());
            List<Program.Buffer> temps = p.buffers().stream().filter(x -> x.kind() == Program.Kind.TEMP).toList();
            for (Program.Buffer u : temps)
                for (Program.Buffer v : temps) {
                    int ru = root(plan, u.id()), rv = root(plan, v.id());
                    if (u.id() >= v.id() || ru == rv) continue; // an alias shares its operand's bytes by design
                    boolean together = plan.first()[ru] <= plan.last()[rv] && plan.first()[rv] <= plan.last()[ru];
                    boolean overlap = plan.offsets()[ru] < plan.offsets()[rv] + plan.bytes()[rv]
                            && plan.offsets()[rv] < plan.offsets()[ru] + plan.bytes()[ru];
                    assertTrue(!(together && overlap), "trial " + trial + ": b" + u.id() + " and b" + v.id() + " are alive together and share bytes");
                }
            assertTrue(plan.arenaBytes() <= plan.naiveBytes());
            assertTrue(plan.last()[p.outputs().get("mid")] == p.kernels().size(), "outputs live to the end");
            for (Program.Buffer u : temps) {
                int r = root(plan, u.id());
                if (r != u.id()) {
                    assertEquals(plan.offsets()[r] + plan.viewOffset()[u.id()], plan.offsets()[u.id()], "a view sits on its operand's bytes");
                    assertTrue(plan.last()[r] >= plan.first()[u.id()], "the operand lives while its alias is written");
                }
            }
        }
    }

    private static int root(MemoryPlan plan, int b) { return plan.aliasOf()[b] >= 0 ? plan.aliasOf()[b] : b; }
}
