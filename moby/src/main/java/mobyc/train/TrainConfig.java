package mobyc.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that determines a training run. {@link #identity()} is what a resumed run must share with the
 * checkpoint it resumes from (the model, data, batch, seed, optimiser and schedule).
 */
public record TrainConfig(
        Path model, String module, Map<String, String> sets,
        Path data, int batch, int accumulate, long epochs, long steps,
        String optimizer, double baseLr, double warmupEpochs, double warmupLr, double minLr, double weightDecay,
        double momentum, double clip, long seed,
        Path out, boolean resume, long checkpointEvery, int logEvery, boolean progress, String backend) {

    public Map<String, Object> identity() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.toAbsolutePath().normalize().toString());
        m.put("module", module);
        m.put("sets", new java.util.TreeMap<>(sets));
        m.put("data", data == null ? "default" : data.toAbsolutePath().normalize().toString());
        m.put("batch", batch);
        m.put("accumulate", accumulate);
        m.put("epochs", epochs);
        m.put("steps", steps);
        m.put("optimizer", optimizer);
        m.put("lr", baseLr);
        m.put("warmup_epochs", warmupEpochs);
        m.put("warmup_lr", warmupLr);
        m.put("min_lr", minLr);
        m.put("weight_decay", weightDecay);
        m.put("momentum", momentum);
        m.put("clip", clip);
        m.put("seed", seed);
        return m;
    }
}
