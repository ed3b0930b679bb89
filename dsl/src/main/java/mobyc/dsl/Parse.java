package mobyc.dsl;

import java.util.ArrayList;
import java.util.List;
import mobyc.dsl.ast.AstBuilder;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.diag.SourceFile;
import mobyc.dsl.parser.MobyLexer;
import mobyc.dsl.parser.MobyParser;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.misc.IntervalSet;

/**
 * Lexes and parses one source into an AST. Before parsing, the token stream is checked for what would make the
 * parser misbehave on hostile input: stray characters, unterminated strings and comments, and bracket nesting
 * deeper than {@link #MAX_NESTING}. Syntax errors are reported all at once, in plain words.
 */
public final class Parse {
    public static final int MAX_NESTING = 256;

    private Parse() {}

    public static Decl.FileUnit parse(SourceFile src, Diagnostics diags) {
        MobyLexer lexer = new MobyLexer(CharStreams.fromString(src.text(), src.name()));
        lexer.removeErrorListeners();
        CommonTokenStream tokens = new CommonTokenStream(lexer);
        tokens.fill();
        if (!lexicalCheck(src, tokens.getTokens(), diags)) return null;
        MobyParser parser = new MobyParser(tokens);
        parser.removeErrorListeners();
        parser.addErrorListener(new SyntaxErrors(src, diags));
        MobyParser.FileContext tree = parser.file();
        if (diags.hasErrors()) return null;
        return new AstBuilder(src, diags).file(tree);
    }

    private static boolean lexicalCheck(SourceFile src, List<Token> tokens, Diagnostics diags) {
        boolean ok = true;
        int depth = 0;
        Token prevError = null;
        List<Token> open = new ArrayList<>();
        for (Token t : tokens) {
            Pos p = new Pos(src, t.getLine(), t.getCharPositionInLine() + 1);
            switch (t.getType()) {
                case MobyLexer.ERROR_CHAR -> {
                    boolean adjacent = prevError != null && prevError.getStopIndex() + 1 == t.getStartIndex();
                    if (!adjacent) diags.error(p, "illegal character " + describe(t.getText()));
                    prevError = t;
                    ok = false;
                }
                case MobyLexer.UNTERMINATED_STRING -> {
                    diags.error(p, "unterminated string", "close it with '\"' on the same line");
                    ok = false;
                }
                case MobyLexer.BLOCK_COMMENT -> {
                    if (t.getText().length() < 4 || !t.getText().endsWith("*/")) {
                        diags.error(p, "unterminated comment", "close it with '*/'");
                        ok = false;
                    }
                }
                default -> {
                    String s = t.getText();
                    if (s.equals("(") || s.equals("[") || s.equals("{")) {
                        if (++depth > MAX_NESTING) {
                            diags.error(p, "brackets nested too deeply (more than " + MAX_NESTING + " levels)",
                                    "split the expression with 'let'");
                            return false;
                        }
                    } else if (s.equals(")") || s.equals("]") || s.equals("}")) {
                        depth = Math.max(0, depth - 1);
                    }
                }
            }
            if (diags.full()) return false;
        }
        return ok;
    }

    private static String describe(String ch) {
        int cp = ch.codePointAt(0);
        if (cp < 0x20 || cp == 0x7f || Character.isWhitespace(cp) || Character.getType(cp) == Character.FORMAT)
            return String.format("U+%04X", cp);
        return "'" + ch + "'" + (cp > 0x7f ? String.format(" (U+%04X)", cp) : "");
    }

    /** Rewords ANTLR's messages: "expected ';' but found 'x'" instead of "mismatched input". */
    private static final class SyntaxErrors extends BaseErrorListener {
        private final SourceFile src;
        private final Diagnostics diags;

        SyntaxErrors(SourceFile src, Diagnostics diags) {
            this.src = src;
            this.diags = diags;
        }

        @Override
        public void syntaxError(Recognizer<?, ?> rec, Object offending, int line, int col, String msg, RecognitionException e) {
            Pos p = new Pos(src, line, col + 1);
            Token t = offending instanceof Token tok ? tok : null;
            boolean eof = t != null && t.getType() == Token.EOF;
            String found = t == null ? "this" : "'" + shorten(t.getText()) + "'";
            String expected = null;
            if (rec instanceof Parser parser) {
                IntervalSet set = e != null && e.getExpectedTokens() != null ? e.getExpectedTokens() : parser.getExpectedTokens();
                expected = set.size() > 0 && set.size() <= 6 ? set.toString(parser.getVocabulary()).replace("{", "").replace("}", "") : null;
            }
            if (expected != null) {
                expected = expected.replace("INT", "a number").replace("FLOAT", "a number").replace("STRING", "a string")
                        .replace("ID", "a name").replace("<EOF>", "the end of the file");
                diags.error(p, "expected " + expected + (eof ? " before the end of the file" : " but found " + found));
            } else {
                diags.error(p, eof ? "unexpected end of file" : "unexpected " + found);
            }
        }

        private static String shorten(String s) { return s.length() > 20 ? s.substring(0, 17) + "..." : s; }
    }
}
