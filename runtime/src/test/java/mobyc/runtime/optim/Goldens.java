package mobyc.runtime.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.Npy;

/**
 * The optimiser goldens of tests/golden/make_optim_goldens.py, read from
 * tests/src/test/resources/golden/optim/ (found by walking up from the working directory, since this module's
 * tests run in runtime/).
 */
final class Goldens {
    static final Path DIR = locate();
    static final JsonNode META = readJson("params.json");
    static final List<String> NAMES = strings(META.get("names"));
    static final int STEPS = META.get("steps").asInt();

    private Goldens() {}

    private static Path locate() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("tests/src/test/resources/golden/optim");
            if (Files.isRegularFile(candidate.resolve("params.json"))) return candidate;
        }
        throw new IllegalStateException("tests/src/test/resources/golden/optim not found above " + Path.of("").toAbsolutePath()
                + "; run /usr/bin/python3 tests/golden/make_optim_goldens.py");
    }

    static JsonNode readJson(String file) {
        try {
            return new ObjectMapper().readTree(DIR.resolve(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static Tensor read(String relative) {
        try {
            return Npy.read(DIR.resolve(relative + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden parameter groups (the script's decay flags agree with {@link ParamGroups}'s rule; checked in tests). */
    static ParamGroups groups() {
        List<long[]> shapes = new ArrayList<>();
        META.get("shapes").forEach(s -> {
            long[] shape = new long[s.size()];
            for (int d = 0; d < shape.length; d++) shape[d] = s.get(d).asLong();
            shapes.add(shape);
        });
        return ParamGroups.of(NAMES, shapes);
    }

    /** Fresh copies of the initial parameters. */
    static List<Tensor> initial() {
        List<Tensor> out = new ArrayList<>();
        for (String n : NAMES) out.add(read("initial/" + n));
        return out;
    }

    /** Per parameter, a [STEPS, *shape] stack (gradients, or a case's parameters after each step). */
    static List<Tensor> stacks(String folder) {
        List<Tensor> out = new ArrayList<>();
        for (String n : NAMES) out.add(read(folder + "/" + n));
        return out;
    }

    /** Row {@code k} of a [STEPS, *shape] stack, as a tensor of the shape of {@code like}. */
    static Tensor row(Tensor stack, int k, Tensor like) {
        Tensor t = Tensor.zeros(DType.F32, like.shape());
        long bytes = t.numel() * Tensor.ELEMENT_BYTES;
        MemorySegment.copy(stack.segment(), k * bytes, t.segment(), 0, bytes);
        return t;
    }

    /** Row {@code k} of every stack. */
    static List<Tensor> rows(List<Tensor> stacks, int k, List<Tensor> like) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < stacks.size(); i++) out.add(row(stacks.get(i), k, like.get(i)));
        return out;
    }

    static double[] lrs(String testCase) {
        JsonNode a = META.get("cases").get(testCase).get("lrs");
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
        return out;
    }
}
