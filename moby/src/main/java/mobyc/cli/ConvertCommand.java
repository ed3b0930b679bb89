package mobyc.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import mobyc.models.weights.Checkpoint;
import mobyc.models.weights.KeyMap;
import mobyc.models.weights.KeyMapException;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.FormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mobyc convert}: a PyTorch or safetensors checkpoint to safetensors, in mobyc's or another naming. */
@Command(name = "convert", description = {
        "Convert a checkpoint (.pth from torch.save, or .safetensors) to .safetensors under mobyc's or another naming.",
        "Reads the official Swin/MoBY, timm, torchvision and mmdet namings, found by the keys; PyTorch files are unpickled "
                + "without running code (only tensors and plain containers are accepted)."})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Checkpoint to read (.pth or .safetensors, told apart by content).") Path in;
    @Parameters(index = "1", paramLabel = "OUT", description = "Safetensors file to write (atomically).") Path out;
    @Option(names = "--to", paramLabel = "NAMING", defaultValue = "mobyc",
            description = "Naming to write: mobyc, official, timm, torchvision or mmdet (default: ${DEFAULT-VALUE}).") String to;
    @Option(names = "--prefix", paramLabel = "PREFIX",
            description = "Keep only the keys under PREFIX (such as encoder. for MoBY's online encoder) and strip it; default: found.") String prefix;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        KeyMap.Target target;
        try {
            target = KeyMap.Target.parse(to);
        } catch (KeyMapException e) {
            throw new UserError("--to: " + e.getMessage());
        }
        LinkedHashMap<String, Tensor> raw;
        try {
            raw = Checkpoint.read(in);
        } catch (FormatException e) {
            throw new UserError(e.getMessage());
        } catch (NoSuchFileException e) {
            throw new UserError("cannot read " + in + ": no such file");
        } catch (IOException e) {
            throw new UserError("cannot read " + in + ": " + e.getMessage());
        }
        KeyMap.Imported imported;
        KeyMap.Exported exported = null;
        try {
            imported = KeyMap.toMobyc(raw, prefix);
            if (target != KeyMap.Target.MOBYC) exported = KeyMap.fromMobyc(imported.tensors(), target);
        } catch (KeyMapException e) {
            throw new UserError(in + ": " + e.getMessage());
        }
        stdout.println("read " + raw.size() + " tensors from " + in + ": " + imported.naming().label() + " names"
                + (imported.prefix().isEmpty() ? "" : " under the prefix " + imported.prefix()));
        report(stdout, imported.dropped(), imported.unmapped());
        Map<String, Tensor> result = exported != null ? exported.tensors() : imported.tensors();
        if (exported != null) report(stdout, exported.dropped(), exported.unmapped());
        try {
            Checkpoint.write(out, result);
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage());
        }
        stdout.println("wrote " + result.size() + " tensors to " + out + ": "
                + (exported != null ? exported.naming().label() : "mobyc") + " names");
        return Main.OK;
    }

    /** One line per reason keys were left out (with a count), and the keys kept under their own names. */
    private static void report(PrintWriter out, List<KeyMap.Dropped> dropped, List<String> unmapped) {
        Map<String, Integer> byReason = new LinkedHashMap<>();
        for (KeyMap.Dropped d : dropped) byReason.merge(d.reason(), 1, Integer::sum);
        byReason.forEach((reason, n) -> out.println("  left out " + n + " " + (n == 1 ? "key" : "keys") + ": " + reason));
        if (!unmapped.isEmpty())
            out.println("  kept " + unmapped.size() + " " + (unmapped.size() == 1 ? "key" : "keys") + " that no rule renames: "
                    + String.join(", ", unmapped.subList(0, Math.min(5, unmapped.size()))) + (unmapped.size() > 5 ? ", ..." : ""));
    }
}
