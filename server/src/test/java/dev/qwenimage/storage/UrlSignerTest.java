package dev.qwenimage.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class UrlSignerTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final UrlSigner signer = new UrlSigner("0123456789abcdef0123456789abcdef".getBytes(), clock);

    @Test
    void signatureIsValidUntilItsExpiry() {
        long expires = clock.instant().plusSeconds(60).getEpochSecond();
        String sig = signer.sign("a.jpeg", expires);
        assertThat(signer.check("a.jpeg", expires, sig)).isEqualTo(UrlSigner.Verdict.VALID);
        clock.advance(Duration.ofSeconds(61));
        assertThat(signer.check("a.jpeg", expires, sig)).isEqualTo(UrlSigner.Verdict.EXPIRED);
    }

    @Test
    void signatureBindsKeyAndExpiry() {
        long expires = clock.instant().plusSeconds(60).getEpochSecond();
        String sig = signer.sign("a.jpeg", expires);
        assertThat(signer.check("b.jpeg", expires, sig)).isEqualTo(UrlSigner.Verdict.BAD_SIGNATURE);
        assertThat(signer.check("a.jpeg", expires + 3600, sig)).isEqualTo(UrlSigner.Verdict.BAD_SIGNATURE);
        assertThat(signer.check("a.jpeg", expires, null)).isEqualTo(UrlSigner.Verdict.BAD_SIGNATURE);
        UrlSigner other = new UrlSigner("another-secret-of-32-bytes-xxxxx".getBytes(), clock);
        assertThat(other.check("a.jpeg", expires, sig)).isEqualTo(UrlSigner.Verdict.BAD_SIGNATURE);
    }

    @Test
    void zeroExpiryNeverExpires() {
        String sig = signer.sign("a.jpeg", 0);
        clock.advance(Duration.ofDays(100_000));
        assertThat(signer.check("a.jpeg", 0, sig)).isEqualTo(UrlSigner.Verdict.VALID);
    }
}
