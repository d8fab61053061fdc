package dev.qwenimage.engine.comfyui;

/**
 * ComfyUI itself reported that a job cannot give an image (it refused the workflow, a node failed,
 * the job vanished). The message reads after "the engine at URL: " and holds no stack trace.
 */
final class JobFailure extends Exception {
    private final boolean transientFailure;

    JobFailure(boolean transientFailure, String message) {
        super(message, null, false, false);
        this.transientFailure = transientFailure;
    }

    boolean isTransient() {
        return transientFailure;
    }
}
