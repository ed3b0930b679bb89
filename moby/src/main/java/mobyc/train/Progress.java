package mobyc.train;

import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress: a live progress bar (loss, lr, img/s, ETA) on a terminal, or a plain log line every
 * few percent when the output is a file or a pipe (CI logs stay readable).
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintWriter log;
    private final long total, every;

    Progress(boolean enabled, long total, long start, PrintWriter log) {
        this.log = log;
        this.total = total;
        this.every = Math.max(1, total / 20);
        boolean terminal = System.console() != null && System.console().isTerminal();
        this.bar = enabled && terminal ? new ProgressBarBuilder().setTaskName("train").setInitialMax(total).startsFrom(start, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(250)
                .continuousUpdate().build() : null;
    }

    void step(long step, long epoch, double loss, double lr, double ips, java.util.Map<String, Object> extra) {
        StringBuilder more = new StringBuilder();
        extra.forEach((k, v) -> more.append(' ').append(k).append(' ').append(v instanceof Double d ? String.format(Locale.ROOT, "%.5f", d) : v));
        String msg = String.format(Locale.ROOT, "epoch %d loss %.4f lr %.2e%s %.1f img/s", epoch, loss, lr, more, ips);
        if (bar != null) {
            bar.stepTo(step + 1);
            bar.setExtraMessage(" " + msg);
        } else if ((step + 1) % every == 0 || step + 1 == total) {
            log.printf(Locale.ROOT, "step %d/%d %s%n", step + 1, total, msg);
            log.flush();
        }
    }

    void message(String m) {
        if (bar != null) System.err.println();
        log.println(m);
        log.flush();
    }

    @Override public void close() {
        if (bar != null) bar.close();
    }
}
