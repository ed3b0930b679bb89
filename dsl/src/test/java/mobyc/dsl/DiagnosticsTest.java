package mobyc.dsl;

import static mobyc.dsl.Sources.diagnostics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import mobyc.dsl.eval.Elaborator;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Invalid programs and exactly what the front end says about them: javac's layout (file:line:col: error: message,
 * the source line, a caret, a hint), every error of a file at once, and a count line.
 */
class DiagnosticsTest {

    // ---------------------------------------------------------------- names

    @Test
    void unknownNameSuggestsTheClosest() {
        assertEquals("""
                t.moby:3:31: error: unknown name 'hiden'
                        return reshape(x, [B, hiden]);
                                              ^
                  hint: did you mean 'hidden'?
                1 error
                """, diagnostics("""
                module M(hidden: int = 4) {
                    fn forward(x: [B, 4]) {
                        return reshape(x, [B, hiden]);
                    }
                }
                """));
    }

    @Test
    void unknownBuiltinParameterSuggestsTheClosest() {
        assertEquals("""
                t.moby:3:27: error: softmax() has no parameter 'axes'
                        return softmax(x, axes=-1);
                                          ^
                  hint: did you mean 'axis'?
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        return softmax(x, axes=-1);
                    }
                }
                """));
    }

    @Test
    void unknownHyperParameterListsTheKnownOnes() {
        assertEquals("""
                t.moby:5:23: error: Inner has no hyper-parameter 'dmi'
                    let inner = Inner(dmi=4);
                                      ^
                  hint: its hyper-parameters are (dim)
                1 error
                """, diagnostics("""
                module Inner(dim: int) {
                    param w: [dim] = ones();
                }
                module M() {
                    let inner = Inner(dmi=4);
                    fn forward(x: [B, 4]) { return x; }
                }
                """, "M"));
    }

    @Test
    void unknownEntryOnTheCommandLine() {
        assertEquals("""
                <command line>: error: no module or function named 'Mx'
                  hint: did you mean 'M'?
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) { return x; }
                }
                """, "Mx"));
    }

    // ---------------------------------------------------------------- hyper-parameters

    @Test
    void missingHyperParameterIsReportedAtTheInstantiation() {
        assertEquals("""
                t.moby:6:17: error: Inner needs a value for its hyper-parameter 'dim'
                    let inner = Inner();
                                ^
                1 error
                """, diagnostics("""
                module Inner(dim: int) {
                    param w: [dim] = ones();
                    fn forward(x: [B, dim]) { return x * w; }
                }
                module M() {
                    let inner = Inner();
                    fn forward(x: [B, 4]) { return inner(x); }
                }
                """, "M"));
    }

    @Test
    void wrongHyperParameterType() {
        assertEquals("""
                t.moby:5:23: error: Inner hyper-parameter 'dim' must be int, got float 2.5
                    let inner = Inner(dim=2.5);
                                      ^
                1 error
                """, diagnostics("""
                module Inner(dim: int) {
                    param w: [dim] = ones();
                }
                module M() {
                    let inner = Inner(dim=2.5);
                    fn forward(x: [B, 4]) { return x; }
                }
                """, "M"));
    }

    @Test
    void hyperParametersArePassedByName() {
        assertEquals("""
                t.moby:5:17: error: hyper-parameters of Inner are passed by name
                    let inner = Inner(4);
                                ^
                  hint: for example Inner(dim=...)
                1 error
                """, diagnostics("""
                module Inner(dim: int) {
                    param w: [dim] = ones();
                }
                module M() {
                    let inner = Inner(4);
                    fn forward(x: [B, 4]) { return x; }
                }
                """, "M"));
    }

    // ---------------------------------------------------------------- shapes

    @Test
    void shapeMismatchAgainstASignaturePattern() {
        assertEquals("""
                t.moby:6:16: error: argument 'x' of proj has shape [B, 4], expected [B, 8] (axis 1: 4 is not 8)
                        return proj(x);
                               ^
                1 error
                """, diagnostics("""
                fn proj(x: [B, 8]) -> [B, 8] {
                    return x;
                }
                module M() {
                    fn forward(x: [B, 4]) {
                        return proj(x);
                    }
                }
                """, "M"));
    }

    @Test
    void matmulInnerDimensionMismatch() {
        assertEquals("""
                t.moby:4:18: error: matmul: inner dimensions differ: [B, 4] @ [3, 5]
                        return x @ w;
                                 ^
                1 error
                """, diagnostics("""
                module M() {
                    param w: [3, 5] = zeros();
                    fn forward(x: [B, 4]) {
                        return x @ w;
                    }
                }
                """));
    }

    @Test
    void broadcastingFailure() {
        assertEquals("""
                t.moby:4:18: error: add: shapes [B, 4] and [3] do not broadcast
                        return x + b;
                                 ^
                1 error
                """, diagnostics("""
                module M() {
                    param b: [3] = zeros();
                    fn forward(x: [B, 4]) {
                        return x + b;
                    }
                }
                """));
    }

    @Test
    void reshapeThatCannotDivide() {
        assertEquals("""
                t.moby:3:16: error: cannot reshape [B, 10] to [-1, 3]: 10*B elements do not divide by 3
                        return reshape(x, [-1, 3]);
                               ^
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 10]) {
                        return reshape(x, [-1, 3]);
                    }
                }
                """));
    }

    @Test
    void indexOutOfRange() {
        assertEquals("""
                t.moby:3:21: error: index 7 is out of range for axis 1 of size 4
                        return x[:, 7];
                                    ^
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        return x[:, 7];
                    }
                }
                """));
    }

    @Test
    void parameterWithAbsurdShape() {
        assertEquals("""
                t.moby:2:11: error: parameter 'w' would have more than 2147483647 elements
                    param w: [100000000, 100000000] = zeros();
                          ^
                  hint: no parameter can be this large; check its shape
                1 error
                """, diagnostics("""
                module M() {
                    param w: [100000000, 100000000] = zeros();
                    fn forward(x: [B, 4]) { return x; }
                }
                """));
    }

    // ---------------------------------------------------------------- values, state, types

    @Test
    void assigningToAParameter() {
        assertEquals("""
                t.moby:4:9: error: cannot assign to 'w', a member of M
                        w = x;
                        ^
                  hint: declare a local with 'let w = ...'
                1 error
                """, diagnostics("""
                module M() {
                    param w: [4] = zeros();
                    fn forward(x: [B, 4]) {
                        w = x;
                        return x;
                    }
                }
                """));
    }

    @Test
    void updatingSomethingThatIsNotState() {
        assertEquals("""
                t.moby:4:9: error: 'w' is not a state of M
                        w := x;
                        ^
                  hint: declare it in the module: state w: [...] = zeros();
                1 error
                """, diagnostics("""
                module M() {
                    param w: [4] = zeros();
                    fn forward(x: [B, 4]) {
                        w := x;
                        return x;
                    }
                }
                """));
    }

    @Test
    void tensorAsAnIfCondition() {
        assertEquals("""
                t.moby:3:14: error: 'if' needs a value known at compile time, not a tensor
                        if x > 0.0 {
                             ^
                  hint: choose between tensors elementwise with where(cond, a, b)
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        if x > 0.0 {
                            return x;
                        }
                        return -x;
                    }
                }
                """));
    }

    @Test
    void mixingI32AndF32() {
        assertEquals("""
                t.moby:3:18: error: '+' on f32 and i32 tensors
                        return x + i;
                                 ^
                  hint: convert one with float(x) or int(x)
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4], i: i32[B, 4]) {
                        return x + i;
                    }
                }
                """));
    }

    @Test
    void failedAssertionShowsItsMessage() {
        assertEquals("""
                t.moby:2:24: error: assertion failed: dim must be divisible by heads, got 30
                    assert dim % heads == 0, "dim must be divisible by heads, got " + str(dim);
                                       ^
                1 error
                """, diagnostics("""
                module M(dim: int = 30, heads: int = 4) {
                    assert dim % heads == 0, "dim must be divisible by heads, got " + str(dim);
                    fn forward(x: [B, dim]) { return x; }
                }
                """));
    }

    @Test
    void constantsThatReferToEachOther() {
        assertEquals("""
                t.moby:1:7: error: constant 'a' refers to itself
                const a = b + 1;
                      ^
                1 error
                """, diagnostics("""
                const a = b + 1;
                const b = a * 2;
                module M() {
                    fn forward(x: [B, 4]) { return x * float(a); }
                }
                """));
    }

    // ---------------------------------------------------------------- lexical and syntax errors

    @Test
    void missingSemicolon() {
        assertEquals("""
                t.moby:4:9: error: expected ';' but found 'return'
                        return y;
                        ^
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let y = x * 2.0
                        return y;
                    }
                }
                """));
    }

    @Test
    void unterminatedString() {
        assertEquals("""
                t.moby:1:8: error: unterminated string
                import "nn.moby;
                       ^
                  hint: close it with '"' on the same line
                1 error
                """, diagnostics("""
                import "nn.moby;
                module M() {}
                """));
    }

    @Test
    void unterminatedBlockComment() {
        assertEquals("""
                t.moby:2:1: error: unterminated comment
                /* never closed
                ^
                  hint: close it with '*/'
                1 error
                """, diagnostics("""
                module M() {}
                /* never closed
                const a = 1;
                """));
    }

    @Test
    void illegalCharacter() {
        assertEquals("""
                t.moby:3:18: error: illegal character '#'
                        return x # 2;
                                 ^
                1 error
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        return x # 2;
                    }
                }
                """));
    }

    @Test
    void unknownEscapeInAString() {
        assertEquals("""
                t.moby:1:15: error: unknown escape '\\q' in string
                const s = "tab\\q";
                              ^
                  hint: known escapes are \\n, \\t, \\" and \\\\
                1 error
                """, diagnostics("""
                const s = "tab\\q";
                """));
    }

    @Test
    void integerLiteralTooLarge() {
        assertEquals("""
                t.moby:1:13: error: integer literal 123456789012345678901234567890 is too large
                const big = 123456789012345678901234567890;
                            ^
                  hint: integers are 64-bit: at most 9223372036854775807
                1 error
                """, diagnostics("const big = 123456789012345678901234567890;\n"));
    }

    @Test
    void floatLiteralOutOfRange() {
        assertEquals("""
                t.moby:1:14: error: number 1e999 is out of range
                const huge = 1e999;
                             ^
                  hint: floating-point literals must be finite (at most about 1.8e308)
                1 error
                """, diagnostics("const huge = 1e999;\n"));
    }

    // ---------------------------------------------------------------- runaway programs

    @Test
    void moduleThatContainsItself() {
        assertEquals("""
                t.moby:2:17: error: modules nested too deeply (more than 128 levels); does Loop contain itself?
                    let inner = Loop(dim=dim);
                                ^
                1 error
                """, diagnostics("""
                module Loop(dim: int = 4) {
                    let inner = Loop(dim=dim);
                    fn forward(x: [B, dim]) { return x; }
                }
                """));
    }

    @Test
    void recursiveFunction() {
        assertEquals("""
                t.moby:2:12: error: calls nested too deeply (more than 128); is f recursive?
                    return f(x);
                           ^
                1 error
                """, diagnostics("""
                fn f(x) {
                    return f(x);
                }
                module M() {
                    fn forward(x: [B, 4]) { return f(x); }
                }
                """, "M"));
    }

    @Test
    void hugeCompileTimeLoopIsRefusedAtOnce() {
        String out = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let y = x;
                        for i in range(10000000000) {
                            y = y + 1.0;
                        }
                        return y;
                    }
                }
                """));
        assertEquals("""
                t.moby:4:18: error: range of 10000000000 items is too long for a compile-time loop (limit 1000000)
                        for i in range(10000000000) {
                                 ^
                1 error
                """, out);
    }

    @Test
    void exhaustedStepBudgetIsOneError() {
        String out = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let n = 0;
                        for i in range(100000) {
                            for j in range(1000) {
                                n = n + 1;
                            }
                        }
                        return x;
                    }
                }
                """));
        assertEquals("t.moby:6:17: error: compile-time evaluation did not finish within " + Elaborator.MAX_STEPS + " steps\n"
                + "                n = n + 1;\n"
                + "                ^\n"
                + "  hint: is a loop bound or a range absurdly large?\n"
                + "1 error\n", out);
    }

    // ---------------------------------------------------------------- many errors at once

    @Test
    void independentElaborationErrorsAreAllReported() {
        assertEquals("""
                t.moby:5:17: error: cannot reshape [B, 4] to [3, -1]: 4*B elements do not divide by 3
                        let b = reshape(a, [3, -1]);
                                ^
                t.moby:6:28: error: softmax() has no parameter 'axes'
                        let c = softmax(a, axes=1);
                                           ^
                  hint: did you mean 'axis'?
                t.moby:7:22: error: index 9 is out of range for axis 1 of size 4
                        let d = a[:, 9];
                                     ^
                3 errors
                """, diagnostics("""
                module M() {
                    param w: [4, 4] = zeros();
                    fn forward(x: [B, 4]) {
                        let a = x @ w;
                        let b = reshape(a, [3, -1]);
                        let c = softmax(a, axes=1);
                        let d = a[:, 9];
                        return a;
                    }
                }
                """));
    }

    @Test
    void errorsDependingOnAnEarlierErrorAreNotRepeated() {
        assertEquals("""
                t.moby:4:19: error: matmul: inner dimensions differ: [B, 4] @ [3, 4]
                        let a = x @ w;
                                  ^
                1 error
                """, diagnostics("""
                module M() {
                    param w: [3, 4] = zeros();
                    fn forward(x: [B, 4]) {
                        let a = x @ w;
                        let b = a * 2.0;
                        let c = reshape(b, [-1]);
                        return c + a;
                    }
                }
                """));
    }

    @Test
    void unknownNamesAnywhereAreAllReported() {
        assertEquals("""
                t.moby:3:17: error: unknown name 'foo'
                        let a = foo;
                                ^
                t.moby:4:17: error: unknown name 'bar'
                        let b = bar + a;
                                ^
                  hint: did you mean 'var'?
                t.moby:5:16: error: unknown name 'baz'
                        return baz;
                               ^
                3 errors
                """, diagnostics("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let a = foo;
                        let b = bar + a;
                        return baz;
                    }
                }
                """));
    }

    @Test
    void lexicalErrorsOfAFileComeTogether() {
        assertEquals("""
                t.moby:1:11: error: illegal character '$'
                const a = $;
                          ^
                t.moby:2:11: error: illegal character U+0007
                const b = ?;
                          ^
                t.moby:3:11: error: unterminated string
                const c = "abc;
                          ^
                  hint: close it with '"' on the same line
                3 errors
                """, diagnostics("const a = $;\nconst b = \u0007;\nconst c = \"abc;\n"));
    }

    @Test
    void longLinesAreCutAroundTheCaret() {
        String src = "const a = " + "1 + ".repeat(60) + "x;\n";
        // the line has 252 characters: the 120 shown end at its end, the caret keeps its place
        String shown = "..." + src.substring(132, 252);
        assertEquals("t.moby:1:251: error: unknown name 'x'\n" + shown + "\n" + " ".repeat(121) + "^\n"
                + "  hint: did you mean 'a'?\n1 error\n", diagnostics(src));
    }

    @Test
    void tabsInTheSourceAreKeptInTheCaretLine() {
        assertEquals("t.moby:3:12: error: matmul: inner dimensions differ: [B, 4] @ [B, 4]\n"
                + "\t\treturn x @ x;\n"
                + "\t\t         ^\n"
                + "1 error\n", diagnostics("module M() {\n\tfn forward(x: [B, 4]) {\n\t\treturn x @ x;\n\t}\n}\n"));
    }

    @Test
    void caretAfterACharacterOutsideTheBmp() {
        String line = "        let s = \"\uD83D\uDE00\"; return x # 2;";
        String out = diagnostics("module M() {\n    fn forward(x: [B, 4]) {\n" + line + "\n    }\n}\n");
        String caret = out.lines().toList().get(2);
        assertEquals(line.indexOf('#'), caret.indexOf('^'), out);
    }

    @Test
    void missingClosingBraceAtTheEndOfTheFile() {
        String out = diagnostics("module M() {\n    fn forward(x: [B, 4]) {\n        return x;\n    }\n");
        assertEquals(false, out.contains("unexpected the end"), out);
        assertEquals(true, out.startsWith("t.moby:5:1: error: "), out);
    }

    @Test
    void diagnosticsAreOrderedByPositionNotByDiscovery() {
        // helper2's error is found first (forward calls it first) but printed second
        assertEquals("""
                t.moby:1:34: error: matmul: inner dimensions differ: [B, 4] @ [B, 4]
                fn helper1(x: [B, 4]) { return x @ x; }
                                                 ^
                t.moby:2:37: error: index 9 is out of range for axis 1 of size 4
                fn helper2(x: [B, 4]) { return x[:, 9]; }
                                                    ^
                2 errors
                """, diagnostics("""
                fn helper1(x: [B, 4]) { return x @ x; }
                fn helper2(x: [B, 4]) { return x[:, 9]; }
                module M() {
                    fn forward(x: [B, 4]) {
                        let a = helper2(x);
                        let b = helper1(x);
                        return x;
                    }
                }
                """));
    }
}
