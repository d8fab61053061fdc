package dev.qwenimage.tenant;

import java.util.Locale;

/** Whether a key works. */
public enum KeyStatus {
    ACTIVE, EXPIRED, REVOKED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
