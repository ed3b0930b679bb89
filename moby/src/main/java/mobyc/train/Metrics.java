package mobyc.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** metrics.jsonl: one JSON object per line (training steps and evaluations), appended as the run goes. */
public final class Metrics implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter w;

    /** Opens the file; when resuming, lines after {@code keepUpToStep} (from the interrupted run) are dropped first. */
    public Metrics(Path file, long keepUpToStep) throws IOException {
        if (keepUpToStep >= 0 && Files.exists(file)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                try {
                    if (JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= keepUpToStep) kept.add(line);
                } catch (IOException e) {
                    // a line cut by a crash: dropped
                }
            }
            Files.write(file, kept, StandardCharsets.UTF_8);
        } else {
            Files.deleteIfExists(file);
        }
        w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public void log(Map<String, Object> record) throws IOException {
        w.write(JSON.writeValueAsString(record));
        w.newLine();
        w.flush();
    }

    @Override public void close() throws IOException { w.close(); }
}
