package mobyc.tests;

import java.io.PrintWriter;
import java.io.StringWriter;
import mobyc.cli.Main;

/** Runs the mobyc command line in-process and captures its exit status and output. */
record Cli(int status, String out, String err) {
    static Cli run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(status, out.toString(), err.toString());
    }

    @Override public String toString() { return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err; }
}
