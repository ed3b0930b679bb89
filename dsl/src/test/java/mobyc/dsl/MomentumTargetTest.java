package mobyc.dsl;

import static mobyc.dsl.Sources.compile;
import static mobyc.dsl.Sources.diagnostics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import org.junit.jupiter.api.Test;

/** ema_copy / ema_update (momentum targets), unit_normal, and alias arguments that create modules. */
class MomentumTargetTest {
    static final String NET = """
            module Lin(n: int = 4, drop: float = 0.1) {
                param w: [n, n] = trunc_normal(std=0.02);
                state steps: [1] = zeros();
                fn forward(x: [B, n]) -> [B, n] { return dropout(x @ w, drop); }
            }
            """;

    @Test
    void copiesAreStateInitialisedFromTheOriginalAndFollowItByEma() {
        Graph g = compile(NET + """
                module T(online: module) {
                    let target = ema_copy(online, drop=0.0);
                    state q: [4, 8] = unit_normal(axis=0);
                    fn forward(x: [B, 4], m: []) -> [B, 4] {
                        ema_update(target, online, m);
                        return online(x) + stop_grad(target(x));
                    }
                }
                module A = T(online=Lin(n=4));
                """, "A").graph();
        Node copy = g.nodes().stream().filter(n -> n.op() instanceof Op.State s && s.path().equals("target.w")).findFirst().orElseThrow();
        assertEquals(new Init.Copy("online.w"), ((Op.State) copy.op()).init());
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof Op.Param p && p.path().equals("online.w")), "the alias's module argument lives under its name");
        assertTrue(g.updates().containsKey("target.w"), "ema_update records the new value");
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof Op.State s && s.path().equals("target.steps") && s.init() instanceof Init.Zeros),
                "the copy's own states stay its own");
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof Op.State s && s.init() instanceof Init.UnitNormal u && u.axis() == 0));
        assertEquals(1, g.nodes().stream().filter(n -> n.op() instanceof Op.Param).count(), "only the online weights are trained");
    }

    @Test
    void misuseIsADiagnostic() {
        String outsideLet = diagnostics(NET + """
                module T(online: module) {
                    fn forward(x: [B, 4]) -> [B, 4] { let t = ema_copy(online); return x; }
                }
                module A = T(online=Lin(n=4));
                """, "A");
        assertTrue(outsideLet.contains("ema_copy creates a module: use it as a member"), outsideLet);

        String shapes = diagnostics(NET + """
                module T(online: module) {
                    let target = ema_copy(online, n=8);
                    fn forward(x: [B, 4]) -> [B, 4] { return x; }
                }
                module A = T(online=Lin(n=4));
                """, "A");
        assertTrue(shapes.contains("ema_copy: 'target.w' is f32[8, 8] but the original 'online.w' is f32[4, 4]"), shapes);

        String notACopy = diagnostics(NET + """
                module T(online: module) {
                    let other = Lin(n=4);
                    fn forward(x: [B, 4]) -> [B, 4] { ema_update(other, online, 0.99); return x; }
                }
                module A = T(online=Lin(n=4));
                """, "A");
        assertTrue(notACopy.contains("ema_update: 'other.w' is not a copy of 'online.w'"), notACopy);

        String badMomentum = diagnostics(NET + """
                module T(online: module) {
                    let target = ema_copy(online);
                    fn forward(x: [B, 4]) -> [B, 4] { ema_update(target, online, x); return x; }
                }
                module A = T(online=Lin(n=4));
                """, "A");
        assertTrue(badMomentum.contains("momentum must be a number or a scalar tensor []"), badMomentum);
    }
}
