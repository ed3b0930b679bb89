package mobyc.dsl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.diag.SourceFile;

/**
 * Reads a source file as strict UTF-8. Oversized files, invalid UTF-8 and binary content are diagnostics,
 * each naming the file and the first offending line and column.
 */
public final class SourceReader {
    /** Largest source accepted. Models are a few kilobytes; this bounds memory and time on hostile input. */
    public static final long MAX_BYTES = 8L << 20;

    private SourceReader() {}

    public static SourceFile read(Path path, String displayName, Diagnostics diags) {
        SourceFile nameOnly = new SourceFile(displayName, "");
        try {
            if (Files.isDirectory(path)) {
                diags.error(new Pos(nameOnly, 1, 1), "is a directory, not a .moby file");
                return null;
            }
            long size = Files.size(path);
            if (size > MAX_BYTES) {
                diags.error(new Pos(nameOnly, 1, 1), "file is too large (" + size + " bytes; the limit is " + MAX_BYTES + ")",
                        "a .moby source is a few kilobytes; is this the right file?");
                return null;
            }
            return decode(Files.readAllBytes(path), displayName, diags);
        } catch (NoSuchFileException e) {
            diags.error(new Pos(nameOnly, 1, 1), "file not found");
        } catch (IOException e) {
            diags.error(new Pos(nameOnly, 1, 1), "cannot read file: " + e.getMessage());
        }
        return null;
    }

    public static SourceFile decode(byte[] bytes, String displayName, Diagnostics diags) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        String text;
        try {
            text = dec.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            int bad = firstInvalidUtf8(bytes);
            String prefix = new String(bytes, 0, bad, StandardCharsets.UTF_8);
            SourceFile partial = new SourceFile(displayName, prefix);
            int line = partial.lineCount();
            int col = prefix.codePointCount(prefix.lastIndexOf('\n') + 1, prefix.length()) + 1;
            diags.error(new Pos(partial, line, col), String.format("invalid UTF-8 (byte 0x%02x at offset %d)", bytes[bad] & 0xff, bad),
                    "save the file as UTF-8 text");
            return null;
        }
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') text = text.substring(1);
        SourceFile src = new SourceFile(displayName, text);
        int nul = text.indexOf('\0');
        if (nul >= 0) {
            int line = src.lineOf(nul);
            int col = text.codePointCount(text.lastIndexOf('\n', nul - 1) + 1, nul) + 1;
            diags.error(new Pos(src, line, col), "binary content (a NUL byte) in a source file", "is this a .moby text file?");
            return null;
        }
        return src;
    }

    private static int firstInvalidUtf8(byte[] b) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        var out = java.nio.CharBuffer.allocate(b.length + 1);
        var r = dec.decode(in, out, true);
        return r.isError() ? in.position() : Math.max(0, b.length - 1);
    }
}
