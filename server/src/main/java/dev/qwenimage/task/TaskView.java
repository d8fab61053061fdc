package dev.qwenimage.task;

import java.util.Optional;

/**
 * What a poll returns: the task, its ETA in seconds (0 once finished, and while no engine can
 * start it: then {@code waitReason} says why), its progress and, once it succeeded, a link to its image.
 */
public record TaskView(Task task, long etaSeconds, int progressPercent, Optional<String> imageUrl, Optional<String> waitReason) {
}
