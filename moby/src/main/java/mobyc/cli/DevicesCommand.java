package mobyc.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import mobyc.runtime.Backend;
import mobyc.runtime.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code mobyc devices}: the backends found, their rank, and which one runs by default. */
@Command(name = "devices", description = "List the backends found and which one is the default.")
final class DevicesCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Backend def = Backends.select(null);
        for (Backend b : Backends.all())
            out.printf("%-10s rank %3d  %s%s%n", b.name(), b.rank(), b.isAvailable() ? "available" : "not available",
                    b == def ? "  (default)" : "");
        return Main.OK;
    }
}
