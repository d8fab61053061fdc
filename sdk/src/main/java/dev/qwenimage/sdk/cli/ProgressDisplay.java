package dev.qwenimage.sdk.cli;

import dev.qwenimage.sdk.TaskResult;
import dev.qwenimage.sdk.TaskStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * The progress of one task on the console: on a terminal one bar redrawn in place with
 * {@code \r}; elsewhere (a pipe, a log file) one line each time the status or the percentage
 * changes, so logs stay readable.
 */
final class ProgressDisplay {
    private static final int BAR_WIDTH = 30;

    private final PrintWriter out;
    private final boolean terminal;
    private String lastKey;
    private int drawnWidth;

    ProgressDisplay(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    void update(TaskResult r) {
        String line = render(r);
        if (terminal) {
            int pad = Math.max(0, drawnWidth - line.length());
            out.print("\r" + line + " ".repeat(pad));
            drawnWidth = line.length();
            out.flush();
            return;
        }
        String key = r.status() + "/" + r.progressPercent();
        if (!key.equals(lastKey)) {
            out.println(line);
            out.flush();
            lastKey = key;
        }
    }

    /** Ends the bar's line, so that what follows starts on a line of its own. */
    void finish() {
        if (terminal && drawnWidth > 0) {
            out.println();
            out.flush();
            drawnWidth = 0;
        }
    }

    static String render(TaskResult r) {
        int percent = r.progressPercent();
        int filled = percent * BAR_WIDTH / 100;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-10s [", r.status()));
        sb.append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append(']');
        sb.append(String.format(Locale.ROOT, " %3d%%", percent));
        if (!r.status().isFinished() && r.status() != TaskStatus.UNKNOWN) {
            sb.append("  ETA ").append(eta(r.eta()));
        }
        return sb.toString();
    }

    static String eta(Duration d) {
        long s = d.toSeconds();
        if (s <= 0) {
            return "any moment";
        }
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
}
