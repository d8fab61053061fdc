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
    void configuredKeysAreTheBootstrapKeysOwnedByTheirDigests() {
        ApiKeys keys = ApiKeys.load(List.of("key-one-xxxxxxxx", "key-two-xxxxxxxx"), dataDir);
        assertThat(keys.keys()).extracting(ApiKeys.Bootstrap::owner)
                .containsExactly(ApiKeys.ownerOf("key-one-xxxxxxxx"), ApiKeys.ownerOf("key-two-xxxxxxxx"));
        assertThat(keys.keys()).extracting(ApiKeys.Bootstrap::source).containsExactly("QWEN_IMAGE_API_KEYS #1", "QWEN_IMAGE_API_KEYS #2");
        assertThat(keys.keys()).extracting(ApiKeys.Bootstrap::prefix).containsExactly("key-o", "key-t");
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
        assertThat(second.keys()).extracting(ApiKeys.Bootstrap::owner).containsExactly(ApiKeys.ownerOf(key));
    }

    @Test
    void ownerIdIsADigestNotTheKey() {
        String owner = ApiKeys.ownerOf("secret-key-123456");
        assertThat(owner).hasSize(64).doesNotContain("secret");
    }

    @Test
    void theAdminTokenIsGeneratedOnceOwnerOnlyOrTakenFromTheSetting() throws Exception {
        AdminToken generated = AdminToken.load("", dataDir);
        String token = generated.generatedToken().orElseThrow();
        assertThat(token).startsWith("qwen-admin-").hasSizeGreaterThan(40);
        assertThat(Files.getPosixFilePermissions(dataDir.resolve("admin-token")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        assertThat(AdminToken.load("", dataDir).accepts(token)).isTrue();
        assertThat(generated.accepts(token + "x")).isFalse();
        assertThat(generated.accepts(null)).isFalse();

        AdminToken configured = AdminToken.load("a-configured-admin-token", dataDir);
        assertThat(configured.accepts("a-configured-admin-token")).isTrue();
        assertThat(configured.accepts(token)).isFalse();
        assertThat(configured.generatedToken()).isEmpty();
    }

    @Test
    void maskShowsOnlyAFewCharacters() {
        assertThat(ApiKeys.mask("qwen-abcdefghijklmnop")).isEqualTo("qwen…op");
        assertThat(ApiKeys.mask("short")).isEqualTo("****");
    }
}
