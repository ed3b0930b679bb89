package mobyc.models.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.FormatException;
import mobyc.runtime.io.SafeTensors;

/**
 * Checkpoint files, whatever wrote them: {@link #read} tells a PyTorch checkpoint (a zip archive, or the legacy
 * pickle format, which it refuses with advice) from a safetensors file by their first bytes, not by the file name;
 * {@link #write} writes safetensors, atomically. {@link #load} also maps the key names to mobyc's ({@link KeyMap}).
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** The kinds of checkpoint file. */
    public enum Format { PYTORCH, SAFETENSORS }

    /** The kind of checkpoint {@code file} is, by its first bytes. */
    public static Format format(Path file) throws IOException {
        byte[] head = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return Format.PYTORCH;
        if (n >= 9 && head[8] == '{') return Format.SAFETENSORS; // before the pickle test: a header length may start with 0x80
        if (PthReader.isLegacy(head)) return Format.PYTORCH; // refused by PthReader, with advice
        if (n < 9) return Format.SAFETENSORS; // too short for either: SafeTensors says how
        throw new FormatException(file, "neither a PyTorch checkpoint (a zip archive) nor a safetensors file (a JSON header)");
    }

    /** Every tensor of {@code file} (for a PyTorch checkpoint: its state dict), by key, in the file's order. */
    public static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
        return switch (format(file)) {
            case PYTORCH -> PthReader.read(file);
            case SAFETENSORS -> SafeTensors.read(file);
        };
    }

    /** The tensors of {@code file} under mobyc's names; {@code prefix} as for {@link KeyMap#toMobyc(Map, String)}. */
    public static KeyMap.Imported load(Path file, String prefix) throws IOException {
        return KeyMap.toMobyc(read(file), prefix);
    }

    /** Writes {@code tensors} to {@code file} as safetensors, in map order, atomically. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        SafeTensors.write(file, tensors);
    }
}
