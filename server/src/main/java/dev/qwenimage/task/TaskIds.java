package dev.qwenimage.task;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/**
 * Task ids: UUID version 7 (RFC 9562), a millisecond time stamp followed by 74 random bits. They
 * look like any UUID to clients, cannot be guessed, and arrive in roughly increasing order, so a
 * new task's id lands at the right edge of the id index instead of on a random page: group commits
 * write a few pages instead of one per task.
 */
public final class TaskIds {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A client's text as a message may quote it: at most 40 characters (ids and names are shorter). */
    public static String quoted(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "…";
    }

    private TaskIds() {
    }

    public static String next(Clock clock) {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        long millis = clock.millis();
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (millis >>> (40 - 8 * i));
        }
        b[6] = (byte) ((b[6] & 0x0f) | 0x70); // version 7
        b[8] = (byte) ((b[8] & 0x3f) | 0x80); // IETF variant
        ByteBuffer bytes = ByteBuffer.wrap(b);
        return new UUID(bytes.getLong(), bytes.getLong()).toString();
    }
}
