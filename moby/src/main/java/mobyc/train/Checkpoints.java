package mobyc.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.AtomicFiles;
import mobyc.runtime.io.SafeTensors;

/**
 * Checkpoints of the whole training state: {@code ckpt-<step>.safetensors} (parameters, state, optimizer moments)
 * and {@code ckpt-<step>.json}, the manifest (step, run configuration, size and SHA-256 of the tensors file). Both
 * are written atomically (temporary file, fsync, rename), the manifest last, so a checkpoint is complete exactly
 * when its manifest exists and the tensors file matches it. Loading verifies before anything is used.
 */
public final class Checkpoints {
    public static final String FORMAT = "mobyc-checkpoint";
    public static final int VERSION = 1;
    private static final Pattern MANIFEST = Pattern.compile("ckpt-(\\d+)\\.json");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoints() {}

    /** A verified checkpoint: its step, run configuration and tensors. */
    public record Loaded(Path manifest, long step, Map<String, Object> run, Map<String, Tensor> tensors) {}

    public static Path save(Path dir, long step, Map<String, Tensor> tensors, Map<String, Object> run) throws IOException {
        Files.createDirectories(dir);
        String stem = String.format("ckpt-%09d", step);
        Path data = dir.resolve(stem + ".safetensors");
        SafeTensors.write(data, tensors, Map.of("format", FORMAT, "step", Long.toString(step)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("step", step);
        m.put("tensors", data.getFileName().toString());
        m.put("bytes", Files.size(data));
        m.put("sha256", sha256(data));
        m.put("run", run);
        byte[] json = JSON.writeValueAsBytes(m);
        Path manifest = dir.resolve(stem + ".json");
        AtomicFiles.write(manifest, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(json)));
        return manifest;
    }

    /** The newest complete checkpoint in {@code dir}; broken ones are skipped, each reported to {@code skipped}. */
    public static Optional<Loaded> newest(Path dir, List<String> skipped) throws IOException {
        if (!Files.isDirectory(dir)) return Optional.empty();
        List<Path> manifests = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> MANIFEST.matcher(p.getFileName().toString()).matches()).forEach(manifests::add);
        }
        manifests.sort((a, b) -> Long.compare(stepOf(b), stepOf(a)));
        for (Path m : manifests) {
            try {
                return Optional.of(load(m));
            } catch (CheckpointException e) {
                skipped.add(e.getMessage());
            }
        }
        return Optional.empty();
    }

    private static long stepOf(Path p) {
        Matcher m = MANIFEST.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Loads and verifies one checkpoint by its manifest; throws {@link CheckpointException} naming the file. */
    @SuppressWarnings("unchecked")
    public static Loaded load(Path manifest) {
        JsonNode m;
        try {
            m = JSON.readTree(Files.readString(manifest, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointException(manifest + ": not a readable checkpoint manifest (" + e.getMessage() + ")");
        }
        if (m == null || !FORMAT.equals(m.path("format").asText()))
            throw new CheckpointException(manifest + ": not a mobyc checkpoint manifest");
        if (m.path("version").asInt() != VERSION)
            throw new CheckpointException(manifest + ": checkpoint version " + m.path("version").asText() + ", this mobyc reads " + VERSION);
        Path data = manifest.resolveSibling(m.path("tensors").asText());
        try {
            if (!Files.isRegularFile(data)) throw new CheckpointException(manifest + ": its tensors file " + data + " is missing");
            long bytes = Files.size(data);
            if (bytes != m.path("bytes").asLong())
                throw new CheckpointException(data + ": " + bytes + " bytes, the manifest says " + m.path("bytes").asLong() + " (truncated?)");
            if (!sha256(data).equals(m.path("sha256").asText()))
                throw new CheckpointException(data + ": contents do not match the manifest's SHA-256 (corrupt?)");
            Map<String, Tensor> tensors = SafeTensors.read(data);
            Map<String, Object> run = JSON.convertValue(m.path("run"), Map.class);
            return new Loaded(manifest, m.path("step").asLong(), run, tensors);
        } catch (IOException e) {
            throw new CheckpointException(e.getMessage());
        }
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(p), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
