package mobyc.dsl;

import static mobyc.dsl.Sources.compile;
import static mobyc.dsl.Sources.f;
import static mobyc.dsl.Sources.i;
import static mobyc.dsl.Sources.ints;
import static mobyc.dsl.Sources.sets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import org.junit.jupiter.api.Test;

/** One valid program per language construct: it compiles, and the graph has the expected shapes and parameters. */
class GrammarTest {

    static List<String> outputShapes(Graph g) { return g.outputs().values().stream().map(n -> n.dtype() + n.shape().toString()).toList(); }

    static List<String> ops(Graph g) { return g.nodes().stream().map(n -> n.op().name()).toList(); }

    static long count(Graph g, Class<? extends Op> kind) { return g.nodes().stream().filter(n -> kind.isInstance(n.op())).count(); }

    // ---------------------------------------------------------------- modules and hyper-parameters

    static final String TYPED = """
            module M(n: int = 3, scale: float = 2, flag: bool = true, sizes: list[int] = [2, 5]) {
                param w: [sizes[0], sizes[1]] = ones();
                let k = flag ? n : 1;
                fn forward(x: [B, sizes[1]]) -> [B, sizes[0]] {
                    return (x @ w.T) * scale * float(k);
                }
            }
            """;

    @Test
    void typedHyperParametersWithDefaults() {
        Graph g = compile(TYPED).graph();
        assertEquals("""
                graph M {
                  %0 = param w : f32[2, 5] init ones()
                  %1 = input x : f32[B, 5]
                  %2 = permute %0 {[1, 0]} : f32[5, 2]
                  %3 = matmul %1, %2 : f32[B, 2]
                  %4 = const 2 : f32[]
                  %5 = mul %3, %4 : f32[B, 2]
                  %6 = const 3 : f32[]
                  %7 = mul %5, %6 : f32[B, 2]
                  output out = %7
                }
                """, g.toString());
        assertEquals(10L, g.parameterCount());
    }

    @Test
    void typedHyperParametersSetFromOutside() {
        Graph g = compile(TYPED, "M", sets("sizes", ints(3, 7), "flag", Sources.b(false), "scale", i(4))).graph();
        assertEquals(List.of("f32[B, 3]"), outputShapes(g));
        assertEquals("[B, 7]", g.inputs().getFirst().shape().toString());
        assertEquals(21L, g.parameterCount());
        assertTrue(g.toString().contains(" = const 4 : f32[]"), g::toString);
        assertTrue(g.toString().contains(" = const 1 : f32[]"), g::toString);
    }

    @Test
    void hyperParameterOfTheWrongTypeFromOutside() {
        assertEquals("""
                <command line>: error: M hyper-parameter 'flag' must be bool, got int 1
                1 error
                """, compile(TYPED, "M", sets("flag", i(1))).diags().format());
        assertEquals("""
                <command line>: error: M hyper-parameter 'sizes' item 1 must be int, got float 2.5
                1 error
                """, compile(TYPED, "M", sets("sizes", new mobyc.dsl.eval.Value.ListV(List.of(i(2), f(2.5))))).diags().format());
    }

    @Test
    void namedInstantiationInAnyOrder() {
        Graph g = compile("""
                module Inner(dim: int, scale: float = 1.0) {
                    param w: [dim] = ones();
                    fn forward(x: [B, dim]) { return x * w * scale; }
                }
                module M() {
                    let inner = Inner(scale=0.5, dim=3);
                    fn forward(x: [B, 3]) { return inner(x); }
                }
                """, "M").graph();
        assertEquals("inner.w", ((Op.Param) g.params().getFirst().op()).path());
        assertEquals(3L, g.parameterCount());
        assertTrue(g.toString().contains(" = const 0.5 : f32[]"), g::toString);
    }

    @Test
    void everyInitialiser() {
        Graph g = compile("""
                module M() {
                    param a: [2] = zeros();
                    param b: [2] = ones();
                    param c: [2] = constant(0.5);
                    param d: [2, 3] = trunc_normal(std=0.02);
                    param e: [3] = normal(mean=1, std=0.1);
                    param f: [3] = uniform(-1, 1);
                    param g: i32[2] = zeros();
                    fn forward(x: [B, 2]) { return x * a + b + c; }
                }
                """).graph();
        assertEquals(List.of(
                "%0 = param a : f32[2] init zeros()",
                "%1 = param b : f32[2] init ones()",
                "%2 = param c : f32[2] init constant(0.5)",
                "%3 = param d : f32[2, 3] init trunc_normal(std=0.02, a=-2, b=2)",
                "%4 = param e : f32[3] init normal(mean=1, std=0.1)",
                "%5 = param f : f32[3] init uniform(-1, 1)",
                "%6 = param g : i32[2] init zeros()"),
                g.params().stream().map(mobyc.compiler.ir.Printer::line).toList());
        assertEquals(2 + 2 + 2 + 6 + 3 + 3 + 2L, g.parameterCount());
    }

    @Test
    void stateAndUpdate() {
        Graph g = compile("""
                module M() {
                    state count: [1] = zeros();
                    state ema: [4] = zeros();
                    fn forward(x: [B, 4]) {
                        count := count + 1.0;
                        ema := ema * 0.9 + mean(x, axis=0) * 0.1;
                        return x - ema;
                    }
                }
                """).graph();
        assertEquals(List.of("count", "ema"), List.copyOf(g.updates().keySet()));
        assertEquals(2, g.states().size());
        assertEquals(0L, g.parameterCount());
        String text = g.toString();
        assertTrue(text.contains("  %4 = add %0, %3 : f32[1]\n"), text);
        assertTrue(text.contains("  %11 = sub %2, %10 : f32[B, 4]\n"), text);
        assertTrue(text.endsWith("  update count := %4\n  update ema := %10\n}\n"), text);
    }

    @Test
    void moduleLevelIfChoosesMembers() {
        String src = """
                import "nn.moby";
                module M(bias: bool = true) {
                    let fc = Linear(in_features=4, out_features=3, use_bias=bias);
                    fn forward(x: [B, 4]) { return fc(x); }
                }
                """;
        assertEquals(15L, compile(src, "M").graph().parameterCount());
        Graph g = compile(src, "M", sets("bias", Sources.b(false))).graph();
        assertEquals(12L, g.parameterCount());
        assertEquals(List.of("fc.weight"), g.params().stream().map(n -> ((Op.Param) n.op()).path()).toList());
    }

    @Test
    void modulesAsHyperParametersStringsAndLogic() {
        Graph g = compile("""
                module Inner(dim: int) {
                    param w: [dim] = ones();
                    fn forward(x: [B, dim]) { return x * w; }
                }
                module Wrap(body: module, times: int = 2) {
                    fn forward(x) {
                        for i in range(times) { x = body(x); }
                        return x;
                    }
                }
                module M(tag: str = "hi") {
                    let inner = Inner(dim=4);
                    let wrap = Wrap(body=inner, times=3);
                    assert tag == "hi" && !(tag != "hi") || false;
                    fn forward(x: [B, 4]) { return wrap(x); }
                }
                """, "M").graph();
        assertEquals(List.of("param", "input", "mul", "mul", "mul"), ops(g));
        assertEquals(4L, g.parameterCount(), "the shared Inner is counted once");
    }

    // ---------------------------------------------------------------- functions and signatures

    @Test
    void symbolicShapesAndEllipsisInSignatures() {
        String src = """
                fn head(x: [..., C], w: [D, C]) -> [..., D] {
                    return x @ transpose(w, 0, 1);
                }
                module M() {
                    param w: [6, 4] = zeros();
                    fn forward(x: [B, T, 4]) -> [B, T, 6] { return head(x, w); }
                    fn flat(x: [B, 4]) -> [B, 6] { return head(x, w); }
                }
                """;
        assertEquals(List.of("f32[B, T, 6]"), outputShapes(compile(src, "M").graph()));
        assertEquals(List.of("f32[B, 6]"), outputShapes(compile(src, "M", "flat", Map.of(), false).graph()));
    }

    @Test
    void functionDefaultsNamedArgumentsAndTopLevelEntries() {
        String src = """
                fn scale(x: [N], by: float = 2.0) -> [N] { return x * by; }
                fn twice(x: [N]) { return scale(x) + scale(by=0.5, x=x); }
                """;
        Graph g = compile(src, "twice").graph();
        assertEquals(List.of("input", "const", "mul", "const", "mul", "add"), ops(g));
        assertEquals("twice", g.name());
        assertTrue(g.toString().contains(" = const 0.5 : f32[]"), g::toString);
        Graph s = compile(src, "scale", sets("by", f(3))).graph();
        assertTrue(s.toString().contains(" = const 3 : f32[]"), s::toString);
    }

    @Test
    void arithmeticOnScalarsFoldsLikePython() {
        Graph g = compile("""
                const A = 7 / 2;
                const C = 2 ** 3 + 1;
                module M() {
                    param w: [A, -7 % 3, C, (10 - 4) * 2 / 4] = zeros();
                    fn forward(x: [B]) { return -x * 2.0 + 1.0 / (x ** 2.0) - x % 3.0; }
                }
                """).graph();
        assertEquals("[3, 2, 9, 3]", g.params().getFirst().shape().toString());
        assertEquals(List.of("param", "input", "neg", "const", "mul", "const", "pow", "const", "div", "add", "const", "mod", "sub"), ops(g));
    }

    @Test
    void matmulOperatorBroadcastsBatches() {
        Graph g = compile("""
                module M() {
                    fn forward(a: [B, H, N, D], b: [D, N]) { return a @ b; }
                }
                """).graph();
        assertEquals(List.of("f32[B, H, N, N]"), outputShapes(g));
    }

    // ---------------------------------------------------------------- tensor operations

    @Test
    void dataMovement() {
        Graph g = compile("""
                module M() {
                    fn forward(x: [B, 4, 6]) {
                        let a = reshape(x, [B, 24]);
                        let b = permute(x, [2, 0, 1]);
                        let c = transpose(x, 1, 2);
                        let d = x[:, 1:3, ::2];
                        let e = concat([x, x], axis=1);
                        let f = roll(x, shifts=[1, -2], axes=[1, 2]);
                        let g = pad(x, [1, 2]);
                        let h = x[..., -1];
                        return (a, b, c, d, e, f, g, h);
                    }
                }
                """).graph();
        assertEquals(List.of("f32[B, 24]", "f32[6, B, 4]", "f32[B, 6, 4]", "f32[B, 2, 3]", "f32[B, 8, 6]", "f32[B, 4, 6]",
                "f32[B, 4, 9]", "f32[B, 4]"), outputShapes(g));
        assertEquals(List.of("out0", "out1", "out2", "out3", "out4", "out5", "out6", "out7"), List.copyOf(g.outputs().keySet()));
    }

    @Test
    void reductions() {
        Graph g = compile("""
                module M() {
                    fn forward(x: [B, 4, 6]) {
                        return (sum(x, axis=1), mean(x, axis=[1, 2]), max(x, axis=-1), sum(x),
                                mean(x, axis=1, keepdim=true), var(x, axis=2));
                    }
                }
                """).graph();
        assertEquals(List.of("f32[B, 6]", "f32[B]", "f32[B, 4]", "f32[]", "f32[B, 1, 6]", "f32[B, 4]"), outputShapes(g));
        assertEquals("reduce_max", g.outputs().get("out2").op().name());
    }

    @Test
    void gatherWithAnIntegerIndex() {
        Graph g = compile("""
                module M() {
                    param table: [10, 8] = normal(std=1);
                    fn forward(ids: i32[B, 5]) -> [B, 5, 8] { return gather(table, ids); }
                }
                """).graph();
        assertEquals("i32[B, 5]", g.inputs().getFirst().dtype() + g.inputs().getFirst().shape().toString());
        assertEquals(List.of("f32[B, 5, 8]"), outputShapes(g));
        assertEquals(80L, g.parameterCount());
    }

    @Test
    void methodCallSyntax() {
        Graph g = compile("""
                module M() {
                    fn forward(x: [B, 4, 6]) {
                        return x.sum(axis=1).reshape([-1]).softmax().unsqueeze(0);
                    }
                }
                """).graph();
        assertEquals(List.of("input", "reduce_sum", "reshape", "softmax", "reshape"), ops(g));
        assertEquals(List.of("f32[1, 6*B]"), outputShapes(g));
    }

    @Test
    void tensorFieldsAndElementwiseChoices() {
        Graph g = compile("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let dims = x.shape;
                        let r = x.rank == 2 ? len(dims) : 0;
                        let z = maximum(x, 0.0) - where(x > 0.0, x, 0.0);
                        return (z.T, reshape(z, [dims[0], r * 2]), x.dtype == "f32" ? z : x);
                    }
                }
                """).graph();
        assertEquals(List.of("f32[4, B]", "f32[B, 4]", "f32[B, 4]"), outputShapes(g));
        assertEquals("sub", g.outputs().get("out2").op().name());
    }

    @Test
    void listComprehensionOfSubmodulesNamesTheirParameters() {
        String src = """
                module Block(dim: int) {
                    param weight: [dim, dim] = zeros();
                    fn forward(x: [B, dim]) -> [B, dim] { return x @ weight; }
                }
                module Net(depth: int = 2, dim: int = 3) {
                    let blocks = [Block(dim=dim) for i in range(depth)];
                    fn forward(x: [B, dim]) -> [B, dim] {
                        for b in blocks {
                            x = b(x);
                        }
                        return x;
                    }
                }
                """;
        Graph g = compile(src, "Net").graph();
        assertEquals(List.of("blocks.0.weight", "blocks.1.weight"), g.params().stream().map(n -> ((Op.Param) n.op()).path()).toList());
        assertEquals(18L, g.parameterCount());
        Graph deep = compile(src, "Net", sets("depth", i(3))).graph();
        assertEquals(3, deep.params().size());
        assertEquals(3, count(deep, Op.MatMul.class));
    }

    @Test
    void listLiteralOfSubmodulesIsNumberedToo() {
        Graph g = compile("""
                import "nn.moby";
                module M() {
                    let layers = [Linear(in_features=2, out_features=2, use_bias=false), LayerNorm(dim=2)];
                    fn forward(x: [B, 2]) { return layers[1](layers[0](x)); }
                }
                """, "M").graph();
        assertEquals(List.of("layers.0.weight", "layers.1.weight", "layers.1.bias"),
                g.params().stream().map(n -> ((Op.Param) n.op()).path()).toList());
    }

    // ---------------------------------------------------------------- compile-time control flow

    static final String CONTROL = """
            const DEPTH = 3;
            const SCALE = 0.5 * 2;
            fn repeat(x: [B, C], times: int) -> [B, C] {
                let y = x;
                for i in range(times) {
                    if i % 2 == 0 {
                        y = y + 1.0;
                    } else if i == 1 {
                        y = y * 2.0;
                    } else {
                        y = y - 1.0;
                    }
                }
                return y;
            }
            module M() {
                assert DEPTH > 0, "depth must be positive";
                fn forward(x: [B, 4]) {
                    assert DEPTH == 3;
                    let (a, b) = pair(x);
                    return repeat(a, DEPTH) * SCALE + b;
                }
                fn pair(x: [B, 4]) -> ([B, 4], [B, 4]) {
                    return x, -x;
                }
            }
            """;

    @Test
    void compileTimeLoopsConditionalsConstantsAndAsserts() {
        Graph g = compile(CONTROL, "M").graph();
        assertEquals(List.of("input", "neg", "const", "add", "const", "mul", "const", "add", "const", "mul", "add"), ops(g));
        assertEquals(List.of("f32[B, 4]"), outputShapes(g));
    }

    @Test
    void topLevelFunctionWithACompileTimeArgument() {
        Graph g = compile(CONTROL, "repeat", sets("times", i(4))).graph();
        assertEquals(List.of("input", "const", "add", "const", "mul", "const", "add", "const", "sub"), ops(g));
        assertEquals("[B, C]", g.inputs().getFirst().shape().toString());
    }

    @Test
    void tupleReturnAndTupleLet() {
        Graph g = compile(CONTROL, "M", "pair", Map.of(), false).graph();
        assertEquals(List.of("out0", "out1"), List.copyOf(g.outputs().keySet()));
        assertEquals("neg", g.outputs().get("out1").op().name());
        assertEquals("M.pair", g.name());
    }

    @Test
    void noGradDetachesWhatTheBlockChanged() {
        Graph g = compile("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let y = x * 2.0;
                        let z = x;
                        no_grad {
                            y = y + 1.0;
                        }
                        return y + z;
                    }
                }
                """).graph();
        assertEquals(1, count(g, Op.StopGradient.class));
        Node out = g.outputs().get("out");
        assertEquals("stop_gradient", out.input(0).op().name());
        assertEquals("input", out.input(1).op().name());
    }

    @Test
    void trainingSwitchesDropoutOnAndOff() {
        String src = """
                import "nn.moby";
                module M() {
                    let drop = Dropout(p=0.25);
                    let fc = Linear(in_features=4, out_features=2);
                    fn forward(x: [B, 4]) {
                        let y = fc(drop(x));
                        return training ? drop_path(y, 0.1) : y;
                    }
                }
                """;
        Graph eval = compile(src, "M", "forward", Map.of(), false).graph();
        Graph train = compile(src, "M", "forward", Map.of(), true).graph();
        assertEquals(0, count(eval, Op.Random.class));
        assertEquals(2, count(train, Op.Random.class));
        assertEquals(List.of("f32[B, 2]"), outputShapes(train));
        assertEquals(List.of("f32[B, 1]"), train.nodes().stream().filter(n -> n.op() instanceof Op.Random).skip(1)
                .map(n -> n.dtype() + n.shape().toString()).toList());
        assertEquals(eval.parameterCount(), train.parameterCount());
    }

    @Test
    void importOfTheStandardLibrary() {
        Graph g = compile("""
                import "nn.moby";
                module M() {
                    let fc = Linear(in_features=4, out_features=8);
                    let norm = LayerNorm(dim=8);
                    let mlp = Mlp(in_features=8, hidden_features=16);
                    fn forward(x: [B, N, 4]) { return mlp(norm(fc(x))); }
                }
                """, "M").graph();
        assertEquals(List.of("fc.weight", "fc.bias", "norm.weight", "norm.bias", "mlp.fc1.weight", "mlp.fc1.bias",
                "mlp.fc2.weight", "mlp.fc2.bias"), g.params().stream().map(n -> ((Op.Param) n.op()).path()).toList());
        assertEquals(4 * 8 + 8 + 8 + 8 + 8 * 16 + 16 + 16 * 8 + 8L, g.parameterCount());
        assertEquals(List.of("f32[B, N, 8]"), outputShapes(g));
    }

    @Test
    void batchNormUpdatesItsRunningStatisticsOnlyWhenTraining() {
        String src = """
                import "nn.moby";
                module M() {
                    let bn = BatchNorm(dim=3);
                    fn forward(x: [B, 3, 4, 4]) { return bn(x); }
                }
                """;
        Graph eval = compile(src, "M", "forward", Map.of(), false).graph();
        Graph train = compile(src, "M", "forward", Map.of(), true).graph();
        assertEquals(List.of(), List.copyOf(eval.updates().keySet()));
        assertEquals(List.of("bn.running_mean", "bn.running_var"), List.copyOf(train.updates().keySet()));
        assertEquals(6L, train.parameterCount());
    }
}
