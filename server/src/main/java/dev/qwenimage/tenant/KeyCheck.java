package dev.qwenimage.tenant;

/** What a presented API key turned out to be. */
public sealed interface KeyCheck {
    /** A working key, with the limits that apply to it. */
    record Accepted(ApiKey key, Limits limits) implements KeyCheck {
    }

    /** A key past its expiry time. */
    record Expired(ApiKey key) implements KeyCheck {
    }

    /** Missing, unknown, revoked, or a rotated-out secret: told apart from each other to no one. */
    record Refused() implements KeyCheck {
    }
}
