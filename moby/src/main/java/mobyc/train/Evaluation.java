package mobyc.train;

import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.lower.Lower;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.runtime.Backend;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/** Top-1 and top-5 accuracy of a classifier (eval-mode graph) over a data set. */
public final class Evaluation {
    private final Executable exe;
    private final String input;

    public record Result(long images, double top1, double top5) {
        /** As metrics.jsonl records it: {@code <prefix>_top1}, {@code <prefix>_top5} and {@code test_images}. */
        public Map<String, Object> metrics(String prefix) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put(prefix + "_top1", top1);
            m.put(prefix + "_top5", top5);
            m.put("test_images", images);
            return m;
        }
    }

    public Evaluation(Graph evalModel, Backend backend) {
        this.exe = backend.compile(Lower.lower(evalModel));
        this.input = ClassifierProgram.imageInput(evalModel);
    }

    /** Evaluates with the stored parameters; an eval-mode graph updates no state. */
    public Result run(ParameterStore store, ImageDataset data, int batch) {
        Batches batches = new Batches(data, batch, false, false, 0);
        long n = 0, hit1 = 0, hit5 = 0;
        for (int i = 0; i < batches.batchesPerEpoch(); i++) {
            Batches.Batch b = batches.get(0, i);
            Tensor logits = exe.run(Map.of(input, b.images()), store, new RunContext(0, 0)).get(ClassifierProgram.LOGITS);
            int classes = (int) logits.dim(1);
            for (int k = 0; k < b.size(); k++) {
                int label = b.labels().getInt(k);
                float target = logits.getFloat((long) k * classes + label);
                int above = 0;
                for (int c = 0; c < classes; c++) {
                    float v = logits.getFloat((long) k * classes + c);
                    if (v > target || (v == target && c < label)) above++;
                }
                if (above == 0) hit1++;
                if (above < 5) hit5++;
            }
            n += b.size();
        }
        return new Result(n, n == 0 ? 0 : 100.0 * hit1 / n, n == 0 ? 0 : 100.0 * hit5 / n);
    }
}
