package dev.qwenimage.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {
    @TempDir
    Path dataDir;

    @Test
    void configuredKeysAreAcceptedAndOthersRefused() {
        ApiKeys keys = ApiKeys.load(List.of("key-one-xxxxxxxx", "key-two-xxxxxxxx"), dataDir);
        assertThat(keys.authenticate("key-one-xxxxxxxx")).hasValue(ApiKeys.ownerOf("key-one-xxxxxxxx"));
        assertThat(keys.authenticate("key-two-xxxxxxxx")).hasValue(ApiKeys.ownerOf("key-two-xxxxxxxx"));
        assertThat(keys.authenticate("key-three")).isEmpty();
        assertThat(keys.authenticate("")).isEmpty();
        assertThat(keys.authenticate(null)).isEmpty();
        assertThat(keys.generatedKey()).isEmpty();
        assertThat(dataDir.resolve("api-key")).doesNotExist();
    }

    @Test
    void withoutConfiguredKeysOneIsGeneratedOnceAndKept() throws Exception {
        ApiKeys first = ApiKeys.load(List.of(), dataDir);
        String key = first.generatedKey().orElseThrow();
        assertThat(key).startsWith("qwen-").hasSizeGreaterThan(30);
        assertThat(Files.readString(dataDir.resolve("api-key")).strip()).isEqualTo(key);

        ApiKeys second = ApiKeys.load(List.of(), dataDir);
        assertThat(second.generatedKey()).hasValue(key);
        assertThat(second.authenticate(key)).isPresent();
    }

    @Test
    void ownerIdIsADigestNotTheKey() {
        String owner = ApiKeys.ownerOf("secret-key-123456");
        assertThat(owner).hasSize(64).doesNotContain("secret");
    }

    @Test
    void maskShowsOnlyAFewCharacters() {
        assertThat(ApiKeys.mask("qwen-abcdefghijklmnop")).isEqualTo("qwen…op");
        assertThat(ApiKeys.mask("short")).isEqualTo("****");
    }
}
