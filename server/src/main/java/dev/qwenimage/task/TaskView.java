package dev.qwenimage.task;

import java.util.Optional;

/** What a poll returns: the task, its ETA in seconds and, once it succeeded, a link to its image. */
public record TaskView(Task task, long etaSeconds, int progressPercent, Optional<String> imageUrl) {
}
