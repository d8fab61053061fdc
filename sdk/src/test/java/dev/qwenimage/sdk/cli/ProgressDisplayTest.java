package dev.qwenimage.sdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.sdk.TaskResult;
import dev.qwenimage.sdk.TaskStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The progress bar: redrawn in place on a terminal, one line per change elsewhere. */
class ProgressDisplayTest {
    private static TaskResult at(TaskStatus status, int percent, long eta) {
        return new TaskResult("t", status, "", Duration.ofSeconds(eta), percent, List.of(), OptionalLong.empty());
    }

    @Test
    void offATerminalEachChangeOfStatusOrPercentIsOneLine() {
        StringWriter sw = new StringWriter();
        ProgressDisplay d = new ProgressDisplay(new PrintWriter(sw), false);

        d.update(at(TaskStatus.QUEUED, 0, 40));
        d.update(at(TaskStatus.QUEUED, 0, 35));
        d.update(at(TaskStatus.PROCESSING, 50, 12));
        d.update(at(TaskStatus.SUCCEED, 100, 0));
        d.finish();

        assertThat(sw.toString().lines().toList()).containsExactly(
                "QUEUED     [------------------------------]   0%  ETA 40s",
                "PROCESSING [###############---------------]  50%  ETA 12s",
                "SUCCEED    [##############################] 100%");
        assertThat(sw.toString()).doesNotContain("\r");
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlaceAndEndsWithANewline() {
        StringWriter sw = new StringWriter();
        ProgressDisplay d = new ProgressDisplay(new PrintWriter(sw), true);

        d.update(at(TaskStatus.PROCESSING, 10, 125));
        d.update(at(TaskStatus.PROCESSING, 10, 5));
        d.finish();

        String out = sw.toString();
        assertThat(out).startsWith("\rPROCESSING [###---------------------------]  10%  ETA 2m05s");
        assertThat(out).contains("\rPROCESSING [###---------------------------]  10%  ETA 5s  ");
        assertThat(out).endsWith(System.lineSeparator()).containsOnlyOnce(System.lineSeparator());
    }
}
