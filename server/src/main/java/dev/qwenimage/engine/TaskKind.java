package dev.qwenimage.engine;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a task asks for, and what an engine can do: draw an image from a prompt, or edit an input
 * image as a prompt says. A task of one kind runs only on an engine that declares it
 * ({@link Engine#kinds()}). {@code code} is how the stores and the fleet's lane reports write
 * it; {@code taskType} is the name task-result reports ({@code task.task_type}).
 */
public enum TaskKind {
    TEXT_TO_IMAGE("txt2img", "QWEN_IMAGE_TEXT_TO_IMAGE"),
    EDIT("edit", "QWEN_IMAGE_EDIT");

    /** Every kind. */
    public static final Set<TaskKind> ALL = Collections.unmodifiableSet(EnumSet.allOf(TaskKind.class));
    /** What an engine does unless it says more. */
    public static final Set<TaskKind> TEXT_ONLY = Collections.unmodifiableSet(EnumSet.of(TEXT_TO_IMAGE));

    private final String code;
    private final String taskType;

    TaskKind(String code, String taskType) {
        this.code = code;
        this.taskType = taskType;
    }

    public String code() {
        return code;
    }

    public String taskType() {
        return taskType;
    }

    /** The kind written as {@code code}, or empty. */
    public static Optional<TaskKind> parse(String code) {
        if (code == null) {
            return Optional.empty();
        }
        String c = code.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(k -> k.code.equals(c)).findFirst();
    }

    /** {@code kinds} as the claim query matches them: {@code ",txt2img,edit,"}. */
    public static String codes(Set<TaskKind> kinds) {
        return kinds.stream().map(TaskKind::code).collect(Collectors.joining(",", ",", ","));
    }

    /** The kinds in a list written by {@link #codes} (or plainly comma-separated); unknown codes are left out. */
    public static Set<TaskKind> parseCodes(String codes) {
        EnumSet<TaskKind> out = EnumSet.noneOf(TaskKind.class);
        if (codes != null) {
            for (String c : codes.split(",")) {
                parse(c).ifPresent(out::add);
            }
        }
        return out;
    }
}
