package dev.qwenimage.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;

/** Assertions on the contract's error body. */
public final class Errors {
    private Errors() {
    }

    /** {@code r} is the contract's error body with this status and reason, and a message for people (no stack trace). */
    public static void assertError(Api.Response r, int status, String reason) {
        assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
        JsonNode body = r.json();
        assertThat(body).as("JSON error body, got %s", r.body()).isNotNull();
        assertThat(body.get("code").asInt()).isEqualTo(status);
        assertThat(body.get("reason").asText()).isEqualTo(reason);
        assertThat(body.get("message").asText()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(body.get("metadata").isObject()).isTrue();
    }
}
