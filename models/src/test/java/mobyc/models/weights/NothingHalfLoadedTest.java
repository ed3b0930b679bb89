package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Shape;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.WeightsException;
import mobyc.runtime.io.FormatException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A failing load leaves every parameter of the store at its initial value; a good one sets them all. */
class NothingHalfLoadedTest {
    private ParameterStore store;
    private Map<String, Tensor> initial;

    /** A store with one parameter per tensor of the official Swin fixture (same shapes), randomly initialised. */
    @BeforeEach
    void store() {
        GraphBuilder b = new GraphBuilder("params");
        Fixtures.safetensors("swin_official.safetensors").forEach((k, t) ->
                b.param(k, t.dtype(), Shape.of(t.shape()), new Init.Normal(0, 1)));
        Graph g = b.build();
        store = ParameterStore.initialise(g, 5);
        initial = new LinkedHashMap<>();
        store.params().forEach((k, t) -> initial.put(k, t.copy()));
    }

    @Test
    void aFileThatFailsToReadLoadsNothing() {
        for (String bad : new String[] {"truncated.pth", "foreign_global.pth", "object_in_state_dict.pth", "legacy.pth", "i64_overflow.pth"}) {
            Path f = Fixtures.file(bad);
            assertThrows(FormatException.class, () -> store.load(Checkpoint.load(f, null).tensors(), bad));
            Fixtures.assertSameTensors(initial, store.params());
        }
    }

    @Test
    void weightsThatDoNotFitLoadNothing() throws IOException {
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>(Checkpoint.load(Fixtures.file("swin_torchvision.pth"), null).tensors());
        w.put("layers.1.blocks.1.mlp.fc2.bias", Tensor.zeros(DType.F32, 31)); // the last parameter: all others would come first
        assertThrows(WeightsException.class, () -> store.load(w, "swin_torchvision.pth"));
        Fixtures.assertSameTensors(initial, store.params());
        w.remove("layers.1.blocks.1.mlp.fc2.bias");
        assertThrows(WeightsException.class, () -> store.load(w, "swin_torchvision.pth"));
        Fixtures.assertSameTensors(initial, store.params());
    }

    @Test
    void goodWeightsLoadEverything() throws IOException {
        store.load(Checkpoint.load(Fixtures.file("swin_moby.pth"), null).tensors(), "swin_moby.pth");
        Fixtures.assertSameTensors(Fixtures.safetensors("swin_official.safetensors"), store.params());
    }
}
