package dev.qwenimage.task;

/** The task store could not do what was asked (database unreachable, disk full...). */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
