package mobyc.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The mobyc command. Exit status: 0 success, 1 an error in the user's input (diagnostics, a bad file or
 * value), 2 wrong usage, 3 an internal error (a bug: run again with --debug for the stack trace).
 */
@Command(name = "mobyc", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Compiles and runs vision transformers and self-supervised objectives written in .moby.",
        subcommands = {CheckCommand.class, CompileCommand.class, ForwardCommand.class, TrainCommand.class, EvalCommand.class, DemoCommand.class, ExamplesCommand.class, BenchCommand.class, ConvertCommand.class,
                DevicesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int OK = 0, INPUT_ERROR = 1, USAGE = 2, INTERNAL = 3;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces for internal errors.")
    boolean debug;

    @Option(names = "--threads", scope = CommandLine.ScopeType.INHERIT, paramLabel = "N",
            description = "Worker threads of the cpu backend (default: one per core).")
    void threads(int n) {
        if (n <= 0) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be positive, got " + n);
        System.setProperty("mobyc.threads", Integer.toString(n));
    }

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing a command (check, compile, forward, train, eval, convert, demo, examples, devices)");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams; returns the exit status (used by tests in-process). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            boolean debug = parsed.matchedOption("--debug") != null
                    || parsed.subcommands().stream().anyMatch(p -> p.matchedOption("--debug") != null);
            if (ex instanceof UserError u) {
                err.println("mobyc: error: " + u.getMessage());
                return INPUT_ERROR;
            }
            if (ex instanceof Diagnosed) return INPUT_ERROR;
            if (debug) ex.printStackTrace(err);
            else err.println("mobyc: internal error: " + ex + "\n  (this is a bug in mobyc; run again with --debug for the stack trace)");
            return INTERNAL;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** Thrown after diagnostics were printed: exit status 1, nothing more to say. */
    static final class Diagnosed extends RuntimeException {
        Diagnosed() { super(null, null, false, false); }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"mobyc " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
