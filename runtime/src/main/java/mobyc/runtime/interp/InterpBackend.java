package mobyc.runtime.interp;

import mobyc.compiler.lower.Program;
import mobyc.runtime.Backend;
import mobyc.runtime.Executable;

/**
 * The scalar reference backend: every op in plain Java loops, one element at a time, with PyTorch's float32
 * semantics. Slow and obviously correct; the numerical oracle every other backend is tested against.
 */
public final class InterpBackend implements Backend {
    @Override public String name() { return "interp"; }

    @Override public int rank() { return 0; }

    @Override public boolean isAvailable() { return true; }

    @Override
    public Executable compile(Program p) {
        for (Program.Buffer b : p.buffers())
            if (!b.dtype().isExecutable())
                throw new IllegalArgumentException("interp runs f32 and i32 tensors; buffer " + b.id()
                        + (b.name() != null ? " (" + b.name() + ")" : "") + " is " + b.dtype());
        return new InterpExecutable(p);
    }
}
