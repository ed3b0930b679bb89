package mobyc.dsl;

import static mobyc.dsl.Sources.onBigStack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.SourceFile;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/** Input meant to break the front end: it answers with diagnostics, never a crash, a stack overflow or a hang. */
class HostileSourceTest {
    static final Duration LIMIT = Duration.ofSeconds(30);

    static Sources.Result big(String text) {
        return assertTimeoutPreemptively(LIMIT, () -> onBigStack(() -> Sources.compile(text, "M", "forward", Map.of(), false)));
    }

    static String load(String text) {
        return assertTimeoutPreemptively(LIMIT, () -> onBigStack(() -> {
            Diagnostics d = new Diagnostics();
            Frontend.loadSource("t.moby", text, d);
            return d.format();
        }));
    }

    @Test
    void emptySourceDeclaresNothing() {
        for (String text : new String[] {"", "   \n\n\t", "// only a comment\n", "/* block */"}) {
            Diagnostics d = new Diagnostics();
            Compilation c = Frontend.loadSource("t.moby", text, d);
            assertFalse(d.hasErrors(), d::format);
            assertTrue(c.globals().isEmpty());
            assertTrue(c.roots().stream().allMatch(u -> u.decls().stream().noneMatch(x -> x instanceof Decl.Module)));
        }
    }

    @Test
    void buildingFromAnEmptySourceNamesTheMissingEntry() {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.loadSource("t.moby", "", d);
        assertNull(Frontend.build(c, Frontend.Request.forward("M", Map.of())));
        assertTrue(d.format().startsWith("<command line>: error: no module or function named 'M'\n"), d::format);
    }

    @Test
    void missingEntryHintIsNeverEmpty() {
        Diagnostics d = new Diagnostics();
        Frontend.build(Frontend.loadSource("t.moby", "", d), Frontend.Request.forward("M", Map.of()));
        assertFalse(d.format().contains("hint: defined: \n"), d::format);
    }

    @Test
    void hundredThousandOpenParentheses() {
        String out = load("const a = " + "(".repeat(100_000) + "1" + ")".repeat(100_000) + ";\n");
        // the line is cut to 120 characters around the caret, which stands under the 257th '('
        assertEquals("t.moby:1:267: error: brackets nested too deeply (more than 256 levels)\n"
                + "..." + "(".repeat(120) + "...\n"
                + " ".repeat(63) + "^\n"
                + "  hint: split the expression with 'let'\n"
                + "1 error\n", out);
    }

    @Test
    void deepBracketsOfEveryKind() {
        for (String open : new String[] {"[", "{"}) {
            String out = load("const a = " + open.repeat(100_000));
            assertTrue(out.startsWith("t.moby:1:267: error: brackets nested too deeply (more than 256 levels)\n"), out);
            assertTrue(out.endsWith("\n1 error\n"), out);
        }
    }

    @Test
    void nestingJustUnderTheLimitCompiles() {
        Sources.Result r = big("const a = " + "(".repeat(250) + "2" + ")".repeat(250) + ";\n"
                + "module M() { fn forward(x: [B, 2]) { return x * float(a); } }\n");
        assertTrue(r.text().contains(" = const 2 : f32[]"), r::text);
    }

    @Test
    void megabyteComment() {
        Sources.Result r = big("// " + "x".repeat(1 << 20) + "\nmodule M() { fn forward(x: [B, 2]) { return x; } }\n");
        assertEquals("[B, 2]", r.graph().outputs().get("out").shape().toString());
    }

    @Test
    void megabyteBlockCommentOnOneLine() {
        Sources.Result r = big("/* " + "ab *".repeat(1 << 18) + " */ module M() { fn forward(x: [B, 2]) { return x; } }\n");
        assertEquals("[B, 2]", r.graph().outputs().get("out").shape().toString());
    }

    @Test
    void longExpressionOnOneLine() {
        // 100,000 additions (400 KB): a parse tree 100,000 deep; with the CLI's stack it compiles
        Sources.Result r = big("const a = " + "1 + ".repeat(100_000) + "1;\n"
                + "module M() { fn forward(x: [B, 2]) { return x * float(a); } }\n");
        assertTrue(r.text().contains(" = const 100001 : f32[]"), r::text);
    }

    @Test
    void longChainOfPrefixOperators() {
        Sources.Result r = big("const a = " + "-".repeat(100_000) + "3;\n"
                + "module M() { fn forward(x: [B, 2]) { return x * float(a); } }\n");
        assertTrue(r.text().contains(" = const 3 : f32[]"), r::text);
    }

    @Test
    void deepExpressionOnTheTestStackIsADiagnostic() {
        // without the CLI's big stack the front end must still answer, here with a diagnostic, not a StackOverflowError
        String out = assertTimeoutPreemptively(LIMIT, () -> {
            java.util.concurrent.atomic.AtomicReference<String> res = new java.util.concurrent.atomic.AtomicReference<>();
            Thread t = new Thread(null, () -> res.set(Sources.diagnostics("const a = " + "1 + ".repeat(20_000) + "1;\n"
                    + "module M() { fn forward(x: [B, 2]) { return x * float(a); } }\n")), "small", 1L << 20);
            t.start();
            t.join();
            return res.get();
        });
        assertEquals("t.moby:1:1: error: the program is nested too deeply to compile\n"
                + "  hint: split long expressions with 'let'\n1 error\n", out);
    }

    @Test
    void nulByteIsBinaryContent() {
        Diagnostics d = new Diagnostics();
        SourceFile s = SourceReader.decode("const a = 1;\nconst b\0 = 2;\n".getBytes(StandardCharsets.UTF_8), "bin.moby", d);
        assertNull(s);
        assertEquals("""
                bin.moby:2:8: error: binary content (a NUL byte) in a source file
                const b? = 2;
                       ^
                  hint: is this a .moby text file?
                1 error
                """, d.format());
        assertEquals("t.moby:1:1: error: binary content (a NUL byte) in a source file\n",
                load("\0module M() {}").lines().findFirst().orElseThrow() + "\n");
    }

    @Test
    void invalidUtf8NamesLineColumnAndOffset() {
        byte[] bytes = {'c', 'o', 'n', 's', 't', ' ', 'a', ' ', '=', ' ', '1', ';', '\n',
                '/', '/', ' ', (byte) 0xC3, (byte) 0xA9, ' ', (byte) 0xFF, 'x', '\n'};
        Diagnostics d = new Diagnostics();
        assertNull(SourceReader.decode(bytes, "bin.moby", d));
        assertEquals("bin.moby:2:6: error: invalid UTF-8 (byte 0xff at offset 19)\n"
                + "// \u00e9 \n"
                + "     ^\n"
                + "  hint: save the file as UTF-8 text\n"
                + "1 error\n", d.format());
    }

    @Test
    void truncatedUtf8AtTheStart() {
        Diagnostics d = new Diagnostics();
        assertNull(SourceReader.decode(new byte[] {(byte) 0xC3}, "bin.moby", d));
        assertEquals("""
                bin.moby:1:1: error: invalid UTF-8 (byte 0xc3 at offset 0)
                  hint: save the file as UTF-8 text
                1 error
                """, d.format());
    }

    @Test
    void byteOrderMarkIsSkipped() {
        Diagnostics d = new Diagnostics();
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] text = "const a = 1;".getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[bom.length + text.length];
        System.arraycopy(bom, 0, all, 0, 3);
        System.arraycopy(text, 0, all, 3, text.length);
        SourceFile s = SourceReader.decode(all, "bom.moby", d);
        assertFalse(d.hasErrors(), d::format);
        assertEquals("const a = 1;", s.text());
    }

    @Test
    void randomBytesNeverCrash() {
        java.util.Random rnd = new java.util.Random(42);
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int k = 0; k < 50; k++) {
                byte[] b = new byte[200 + rnd.nextInt(2000)];
                rnd.nextBytes(b);
                Diagnostics d = new Diagnostics();
                SourceFile s = SourceReader.decode(b, "r.moby", d);
                if (s != null) {
                    Diagnostics d2 = new Diagnostics();
                    Frontend.loadSource("r.moby", s.text(), d2);
                    d2.format();
                }
                assertTrue(s != null || d.hasErrors());
                d.format();
            }
        });
    }

    @Test
    void manyIllegalCharactersStopAtTheErrorLimit() {
        String out = load("# ".repeat(1000));
        assertEquals(Diagnostics.LIMIT, out.lines().filter(l -> l.contains(": error: ")).count());
        assertTrue(out.endsWith(" errors\n"), out.substring(Math.max(0, out.length() - 200)));
    }

    @Test
    void controlAndInvisibleCharactersAreNamedByCodePoint() {
        String out = load("const a = 1;\u0007\nconst caf\u00e9 = 2;\nconst z = 1\u200b;\nconst w = ###;\n");
        assertEquals("""
                t.moby:1:13: error: illegal character U+0007
                const a = 1;?
                            ^
                t.moby:2:10: error: illegal character 'é' (U+00E9)
                const café = 2;
                         ^
                t.moby:3:12: error: illegal character U+200B
                const z = 1\u200b;
                           ^
                t.moby:4:11: error: illegal character '#'
                const w = ###;
                          ^
                4 errors
                """, out);
    }

    static final String[] TOKENS = {"module", "M", "(", ")", "{", "}", "fn", "forward", "x", ":", "[", "]", "B", ",", "4",
            "return", ";", "+", "@", "*", "let", "=", "1.5", "\"s\"", "if", "else", "for", "in", "range", "...", "->", ":=",
            "param", "state", "zeros", "(", ")", "x", "B", "-1", "reshape", "no_grad", "training", "?", "import", "const",
            "0", "99999999999", "[", "]", ".", "T", "shape", "int", "list", "&&", "!", "**", "%"};

    @Test
    void tokenSoupNeverCrashes() {
        java.util.Random rnd = new java.util.Random(7);
        assertTimeoutPreemptively(LIMIT, () -> onBigStack(() -> {
            for (int k = 0; k < 150; k++) {
                StringBuilder sb = new StringBuilder(k % 3 == 0 ? "module M() { fn forward(x: [B, 4]) { " : "");
                int n = 5 + rnd.nextInt(120);
                for (int t = 0; t < n; t++) sb.append(TOKENS[rnd.nextInt(TOKENS.length)]).append(' ');
                if (k % 3 == 0) sb.append(" return x; } }");
                String src = sb.toString();
                try {
                    Sources.compile(src, "M", "forward", Map.of(), k % 2 == 0).diags().format();
                } catch (RuntimeException e) {
                    throw new AssertionError("front end threw on: " + src, e);
                }
            }
            return null;
        }));
    }
}
