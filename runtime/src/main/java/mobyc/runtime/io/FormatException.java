package mobyc.runtime.io;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not what its reader expects (bad magic, truncated, unsupported dtype...). The message starts with the file's path. */
public final class FormatException extends IOException {
    private final Path file;

    public FormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public FormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() { return file; }
}
