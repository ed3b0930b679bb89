package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input to `mobyc check`: every case ends in a diagnostic (or a warning) with the file's position, never a
 * crash, a stack trace, a StackOverflowError, an OutOfMemoryError or a hang.
 */
class HostileInputTest {
    @TempDir Path tmp;

    private Cli check(String name, byte[] content) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, content);
        Cli r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run("check", f.toString()));
        assertFalse(r.err().contains("Exception") || r.err().contains("Error:") || r.err().contains("\tat "), r::toString);
        return r;
    }

    private Cli check(String name, String content) throws IOException { return check(name, content.getBytes(StandardCharsets.UTF_8)); }

    private static void expectError(Cli r, String fragment) {
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().contains(fragment), () -> "expected '" + fragment + "' in\n" + r);
    }

    @Test
    void emptyFileGetsAWarning() throws IOException {
        Cli r = check("empty.moby", "");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.err().contains("empty.moby:1:1: warning: the file declares nothing"), r::toString);
    }

    @Test
    void binaryBytes() throws IOException {
        byte[] b = new byte[4096];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 7919 + 13);
        expectError(check("binary.moby", b), "binary.moby:");
        byte[] nul = "const a = 1;\u0000\u0001".getBytes(StandardCharsets.UTF_8);
        expectError(check("nul.moby", nul), "nul.moby:1:13: error: binary content (a NUL byte) in a source file");
        expectError(check("ctrl.moby", "module A() {\u0001\u0002 }"), "ctrl.moby:1:13: error: illegal character U+0001");
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] b = "module A() {\n  let x = \"caf\u00e9 ".getBytes(StandardCharsets.UTF_8);
        byte[] bad = new byte[b.length + 3];
        System.arraycopy(b, 0, bad, 0, b.length);
        bad[b.length] = (byte) 0xff;
        bad[b.length + 1] = '"';
        bad[b.length + 2] = ';';
        expectError(check("utf8.moby", bad), "utf8.moby:2:17: error: invalid UTF-8 (byte 0xff at offset 30)");
    }

    @Test
    void hundredThousandNestedBrackets() throws IOException {
        String src = "const x = " + "(".repeat(100_000) + "1" + ")".repeat(100_000) + ";\n";
        expectError(check("nested.moby", src), "error: brackets nested too deeply (more than 256 levels)");
        String lists = "const x = " + "[".repeat(100_000) + "]".repeat(100_000) + ";\n";
        expectError(check("lists.moby", lists), "error: brackets nested too deeply");
    }

    @Test
    void tenMegabyteFile() throws IOException {
        String line = "// " + "x".repeat(76) + "\n";
        Cli r = check("big.moby", line.repeat(10 * 1024 * 1024 / line.length() + 1));
        expectError(r, "big.moby:1:1: error: file is too large");
    }

    @Test
    void oneMegabyteLine() throws IOException {
        Cli comment = check("comment.moby", "// " + "y".repeat(1 << 20) + "\nconst a = 1;\n");
        assertEquals(0, comment.status(), comment::toString);
        String sum = "const x = " + String.join(" + ", java.util.Collections.nCopies((1 << 20) / 4, "1")) + ";\n";
        Cli r = check("sum.moby", sum);
        assertEquals(0, r.status(), r::toString);
        String junk = "module M() { " + "@ ".repeat((1 << 20) / 2) + "}\n";
        expectError(check("junk.moby", junk), "junk.moby:1:");
        String longName = "const " + "a".repeat(1 << 20) + " = nope;\n";
        expectError(check("name.moby", longName), "error: unknown name");
    }

    @Test
    void unterminatedCommentAndString() throws IOException {
        expectError(check("comment.moby", "const a = 1;\n/* never closed\nconst b = 2;\n"), "comment.moby:2:1: error: unterminated comment");
        expectError(check("string.moby", "const a = \"never closed;\nconst b = 2;\n"), "string.moby:1:11: error: unterminated string");
    }

    @Test
    void absurdNumbersAndShapes() throws IOException {
        Cli r = check("numbers.moby", "const a = 99999999999999999999999999;\nconst b = 1e999;\n");
        expectError(r, "numbers.moby:1:11: error: integer literal 99999999999999999999999999 is too large");
        expectError(r, "numbers.moby:2:11: error: number 1e999 is out of range");
        expectError(check("param.moby", "module M() {\n  param w: [100000000000, 100000000000] = zeros();\n  fn forward(x: [B, 4]) { return x; }\n}\n"),
                "param.moby:2:9: error: parameter 'w' would have more than 2147483647 elements");
        expectError(check("negative.moby", "module M() {\n  param w: [4, -3] = zeros();\n  fn forward(x: [B, 4]) { return x; }\n}\n"),
                "error: the shape of parameter 'w' has a size of -3; sizes must be positive");
        expectError(check("reshape.moby", "module M() {\n  fn forward(x: [B, 4]) { return reshape(x, [B, 1000000000000, 1000000000000]); }\n}\n"),
                "reshape.moby:2:34: error: reshape: size overflow");
        expectError(check("overflow.moby", "module M(n: int = 9223372036854775807) {\n  fn forward(x: [B, 4]) { return x * float(n + 1); }\n}\n"),
                "overflow.moby:2:46: error: integer overflow in 9223372036854775807 + 1");
    }

    @Test
    void runawayCompileTimeWork() throws IOException {
        expectError(check("range.moby", "module M() {\n  fn forward(x: [B, 4]) {\n    for i in range(1000000000000) { x = x + 1.0; }\n    return x;\n  }\n}\n"),
                "range.moby:3:14: error: range of 1000000000000 items is too long for a compile-time loop");
        Cli r = check("loops.moby", "module M(n: int = 100000) {\n  fn forward(x: [B, 4]) {\n    for i in range(n) { for j in range(n) { x = x + 1.0; } }\n    return x;\n  }\n}\n");
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().contains("error: the graph exceeds") || r.err().contains("error: compile-time evaluation did not finish"), r::toString);
        expectError(check("self.moby", "module M() {\n  let inner = M();\n  fn forward(x: [B, 4]) { return x; }\n}\n"),
                "error: modules nested too deeply (more than 128 levels); does M contain itself?");
        expectError(check("recurse.moby", "fn f(x: [B, 4]) { return f(x); }\nmodule M() {\n  fn forward(x: [B, 4]) { return f(x); }\n}\n"),
                "error: calls nested too deeply (more than 128); is f recursive?");
    }
}
