package dev.qwenimage.task;

/** No task with that id is visible to the caller (it does not exist, or another key owns it). */
public final class TaskNotFound extends RuntimeException {
    public TaskNotFound(String id) {
        super("no task with id '" + (id == null ? "" : TaskIds.quoted(id)) + "' for this API key");
    }
}
