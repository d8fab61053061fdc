package dev.qwenimage.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.config.ServerConfig.S3Settings;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalS3;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** The S3 store against a real S3 server (S3Proxy on loopback): objects, presigned links, the start-up check. */
class S3BlobStoreTest {
    private static final byte[] JPEG = "\u00ff\u00d8 not really a JPEG but bytes all the same".getBytes(StandardCharsets.ISO_8859_1);
    /** A key prefix with characters URL encoders disagree on. */
    private static final String ODD_PREFIX = "dir with space+plus=&~*'()!é:@,;$/";
    private static LocalS3 s3;

    @BeforeAll
    static void startS3() {
        s3 = LocalS3.start();
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    private static S3Settings settings(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(s3.env());
        values.putAll(overrides);
        return ServerConfig.of(values).s3().orElseThrow();
    }

    private static S3BlobStore connect(Map<String, String> overrides) {
        return S3BlobStore.connect(settings(overrides), Clock.systemUTC());
    }

    @Test
    void putOpenDeleteRoundTrip() throws Exception {
        try (S3BlobStore store = connect(Map.of())) {
            store.put("roundtrip01.jpeg", JPEG, "image/jpeg");

            BlobStore.Blob blob = store.open("roundtrip01.jpeg").orElseThrow();
            try (var in = blob.content()) {
                assertThat(in.readAllBytes()).isEqualTo(JPEG);
            }
            assertThat(blob.size()).isEqualTo(JPEG.length);
            assertThat(blob.contentType()).isEqualTo("image/jpeg");

            store.delete("roundtrip01.jpeg");
            assertThat(store.open("roundtrip01.jpeg")).isEmpty();
            assertThat(s3.exists("roundtrip01.jpeg")).isFalse();
        }
    }

    @Test
    void putReplacesAnEarlierObject() throws Exception {
        try (S3BlobStore store = connect(Map.of())) {
            store.put("replaced01.jpeg", "first".getBytes(StandardCharsets.UTF_8), "image/jpeg");
            store.put("replaced01.jpeg", JPEG, "image/jpeg");
            assertThat(s3.get("replaced01.jpeg")).hasValue(JPEG);
        }
    }

    @Test
    void missingKeyOpensEmptyAndDeletesWithoutError() {
        try (S3BlobStore store = connect(Map.of())) {
            assertThat(store.open("neverstored.jpeg")).isEmpty();
            store.delete("neverstored.jpeg");
            store.delete("neverstored.jpeg");
            assertThat(store.open("../escape.jpeg")).isEmpty();
        }
    }

    @Test
    void keysGoUnderThePrefix() {
        try (S3BlobStore store = connect(Map.of("QWEN_IMAGE_S3_PREFIX", "images/2026/"))) {
            store.put("prefixed01.jpeg", JPEG, "image/jpeg");
            assertThat(s3.get("images/2026/prefixed01.jpeg")).hasValue(JPEG);
            assertThat(s3.exists("prefixed01.jpeg")).isFalse();
            assertThat(store.link("prefixed01.jpeg", "", Duration.ofMinutes(5))).contains("/images/2026/prefixed01.jpeg?");

            store.delete("prefixed01.jpeg");
            assertThat(s3.exists("images/2026/prefixed01.jpeg")).isFalse();
        }
    }

    @Test
    void linksUnderAPrefixThatNeedsEncodingStillVerify() {
        try (S3BlobStore store = connect(Map.of("QWEN_IMAGE_S3_PREFIX", ODD_PREFIX))) {
            store.put("odd01.jpeg", JPEG, "image/jpeg");
            assertThat(s3.get(ODD_PREFIX + "odd01.jpeg")).hasValue(JPEG);
            assertThat(Api.fetch(store.link("odd01.jpeg", "", Duration.ofMinutes(5))).body()).isEqualTo(JPEG);
        }
    }

    @Test
    void presignedLinkServesTheBytesToAPlainGetWithoutCredentials() {
        try (S3BlobStore store = connect(Map.of())) {
            store.put("linked01.jpeg", JPEG, "image/jpeg");
            String url = store.link("linked01.jpeg", "http://ignored.example", Duration.ofMinutes(10));

            assertThat(url).startsWith(s3.endpoint() + "/" + s3.bucket() + "/linked01.jpeg?")
                    .contains("X-Amz-Expires=600").contains("X-Amz-Signature=");
            HttpResponse<byte[]> r = Api.fetch(url);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(JPEG);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        }
    }

    @Test
    void alteredLinkIsRefused() {
        try (S3BlobStore store = connect(Map.of())) {
            store.put("altered01.jpeg", JPEG, "image/jpeg");
            store.put("altered02.jpeg", JPEG, "image/jpeg");
            String url = store.link("altered01.jpeg", "", Duration.ofMinutes(10));

            assertThat(Api.fetch(url.replace("altered01.jpeg", "altered02.jpeg")).statusCode()).isEqualTo(403);
            assertThat(Api.fetch(url.replace("X-Amz-Expires=600", "X-Amz-Expires=6000")).statusCode()).isEqualTo(403);
        }
    }

    @Test
    void expiredLinkIsRefused() {
        Instant tenMinutesAgo = Instant.now().minus(Duration.ofMinutes(10));
        try (S3BlobStore store = S3BlobStore.connect(settings(Map.of()), Clock.fixed(tenMinutesAgo, ZoneOffset.UTC))) {
            store.put("expired01.jpeg", JPEG, "image/jpeg");

            HttpResponse<byte[]> expired = Api.fetch(store.link("expired01.jpeg", "", Duration.ofMinutes(9)));
            assertThat(expired.statusCode()).isEqualTo(403);
            assertThat(new String(expired.body(), StandardCharsets.UTF_8)).contains("AccessDenied").contains("expired");

            assertThat(Api.fetch(store.link("expired01.jpeg", "", Duration.ofMinutes(11))).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void zeroTtlGivesTheLongestLinkSigV4Allows() {
        try (S3BlobStore store = connect(Map.of())) {
            store.put("forever01.jpeg", JPEG, "image/jpeg");
            assertThat(store.linkTtl(Duration.ZERO)).isEqualTo(Duration.ofDays(7));
            assertThat(store.linkTtl(Duration.ofDays(30))).isEqualTo(Duration.ofDays(7));
            assertThat(store.linkTtl(Duration.ofHours(1))).isEqualTo(Duration.ofHours(1));

            String url = store.link("forever01.jpeg", "", Duration.ZERO);
            assertThat(url).contains("X-Amz-Expires=604800");
            assertThat(Api.fetch(url).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void linksAreWhatTheSdkPresignerWouldSignAtTheSameInstant() {
        var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey()));
        URI endpoint = URI.create("https://s3.example.test:9000");
        for (boolean pathStyle : new boolean[] {true, false}) {
            String sdkUrl;
            try (S3Presigner presigner = S3Presigner.builder().region(Region.US_EAST_1).endpointOverride(endpoint)
                    .credentialsProvider(credentials)
                    .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(pathStyle).build()).build()) {
                sdkUrl = presigner.presignGetObject(p -> p.signatureDuration(Duration.ofMinutes(15))
                        .getObjectRequest(g -> g.bucket(s3.bucket()).key(ODD_PREFIX + "same01.jpeg"))).url().toString();
            }
            Matcher date = Pattern.compile("X-Amz-Date=(\\d{8}T\\d{6}Z)").matcher(sdkUrl);
            assertThat(date.find()).isTrue();
            Instant signedAt = ZonedDateTime.parse(date.group(1), DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX")).toInstant();

            S3Settings settings = settings(Map.of("QWEN_IMAGE_S3_ENDPOINT", endpoint.toString(), "QWEN_IMAGE_S3_PREFIX", ODD_PREFIX,
                    "QWEN_IMAGE_S3_PATH_STYLE", pathStyle ? "on" : "off"));
            // not connected (that host does not exist): signing needs no request to the store
            try (S3BlobStore store = new S3BlobStore(settings, Clock.fixed(signedAt, ZoneOffset.UTC))) {
                assertThat(store.link("same01.jpeg", "", Duration.ofMinutes(15))).isEqualTo(sdkUrl);
            }
            assertThat(sdkUrl).startsWith(pathStyle ? endpoint + "/" + s3.bucket() + "/dir%20with%20space%2Bplus" : "https://" + s3.bucket() + ".s3.example.test:9000/dir%20with%20space%2Bplus");
        }
    }

    @Test
    void publicEndpointIsWhatLinksPointAt() {
        URI publicEndpoint = URI.create("http://localhost:" + s3.endpoint().getPort());
        try (S3BlobStore store = connect(Map.of("QWEN_IMAGE_S3_PUBLIC_ENDPOINT", publicEndpoint.toString()))) {
            store.put("public01.jpeg", JPEG, "image/jpeg");
            String url = store.link("public01.jpeg", "", Duration.ofMinutes(5));
            assertThat(url).startsWith(publicEndpoint + "/" + s3.bucket() + "/public01.jpeg?");
            assertThat(Api.fetch(url).body()).isEqualTo(JPEG);
        }
    }

    @Test
    void missingBucketStopsTheStartWithAClearMessage() {
        assertThatThrownBy(() -> connect(Map.of("QWEN_IMAGE_S3_BUCKET", "no-such-bucket")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("bucket 'no-such-bucket' does not exist")
                .hasMessageContaining("QWEN_IMAGE_S3_CREATE_BUCKET=on");
        assertThat(s3.bucketExists("no-such-bucket")).isFalse();
    }

    @Test
    void missingBucketIsCreatedWhenAllowed() {
        try (S3BlobStore store = connect(Map.of("QWEN_IMAGE_S3_BUCKET", "created-at-start", "QWEN_IMAGE_S3_CREATE_BUCKET", "on"))) {
            assertThat(s3.bucketExists("created-at-start")).isTrue();
            store.put("created01.jpeg", JPEG, "image/jpeg");
            assertThat(Api.fetch(store.link("created01.jpeg", "", Duration.ofMinutes(1))).body()).isEqualTo(JPEG);
        }
        // a second start finds it there
        connect(Map.of("QWEN_IMAGE_S3_BUCKET", "created-at-start", "QWEN_IMAGE_S3_CREATE_BUCKET", "on")).close();
    }

    @Test
    void wrongSecretKeyStopsTheStartNamingTheSettings() {
        assertThatThrownBy(() -> connect(Map.of("QWEN_IMAGE_S3_SECRET_KEY", "not-the-secret")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("signature")
                .hasMessageContaining("QWEN_IMAGE_S3_SECRET_KEY");
    }

    @Test
    void unknownAccessKeyStopsTheStartNamingTheSettings() {
        assertThatThrownBy(() -> connect(Map.of("QWEN_IMAGE_S3_ACCESS_KEY", "nobody")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not know the access key")
                .hasMessageContaining("QWEN_IMAGE_S3_ACCESS_KEY");
    }

    @Test
    void bucketTheCredentialsCannotWriteStopsTheStart() {
        assertThatThrownBy(() -> connect(Map.of("QWEN_IMAGE_S3_ACCESS_KEY", s3.readOnlyAccessKey(),
                "QWEN_IMAGE_S3_SECRET_KEY", s3.readOnlySecretKey())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not let the service write objects");
        assertThat(s3.keys()).noneMatch(k -> k.contains("write-check"));
    }

    @Test
    void unreachableEndpointStopsTheStart() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        assertThatThrownBy(() -> connect(Map.of("QWEN_IMAGE_S3_ENDPOINT", "http://127.0.0.1:" + closedPort)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot reach the S3 store at http://127.0.0.1:" + closedPort)
                .hasMessageContaining("QWEN_IMAGE_S3_ENDPOINT");
    }

    @Test
    void startUpCheckLeavesNothingBehind() {
        connect(Map.of("QWEN_IMAGE_S3_PREFIX", "check/")).close();
        assertThat(s3.keys()).noneMatch(k -> k.startsWith("check/"));
    }

    @Test
    void emptyKeysUseTheSdkDefaultCredentialsChain() {
        String oldId = System.getProperty("aws.accessKeyId");
        String oldSecret = System.getProperty("aws.secretAccessKey");
        System.setProperty("aws.accessKeyId", s3.accessKey());
        System.setProperty("aws.secretAccessKey", s3.secretKey());
        try (S3BlobStore store = connect(Map.of("QWEN_IMAGE_S3_ACCESS_KEY", "", "QWEN_IMAGE_S3_SECRET_KEY", ""))) {
            store.put("chain01.jpeg", JPEG, "image/jpeg");
            assertThat(Api.fetch(store.link("chain01.jpeg", "", Duration.ofMinutes(1))).body()).isEqualTo(JPEG);
        } finally {
            restore("aws.accessKeyId", oldId);
            restore("aws.secretAccessKey", oldSecret);
        }
    }

    @Test
    void emptyKeysAndAnEmptyChainStopTheStartClearly() throws Exception {
        assumeTrue(System.getenv("AWS_ACCESS_KEY_ID") == null && System.getenv("AWS_WEB_IDENTITY_TOKEN_FILE") == null
                && System.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == null
                && System.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") == null, "AWS credentials in this environment");
        Path empty = Files.createTempFile("aws-empty", ".ini");
        Map<String, String> properties = Map.of("aws.sharedCredentialsFile", empty.toString(), "aws.configFile", empty.toString(),
                "aws.disableEc2Metadata", "true");
        Map<String, String> old = new HashMap<>();
        properties.forEach((k, v) -> old.put(k, System.setProperty(k, v)));
        try {
            assertThatThrownBy(() -> connect(Map.of("QWEN_IMAGE_S3_ACCESS_KEY", "", "QWEN_IMAGE_S3_SECRET_KEY", "")))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("no credentials for the S3 store")
                    .hasMessageContaining("QWEN_IMAGE_S3_ACCESS_KEY");
        } finally {
            old.forEach(S3BlobStoreTest::restore);
            Files.delete(empty);
        }
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    @Test
    void secretKeyNeverShowsInTheSettingsText() {
        S3Settings settings = settings(Map.of());
        assertThat(settings.toString()).doesNotContain(s3.secretKey()).contains("secretKey=***");
        assertThat(settings.describe()).doesNotContain(s3.secretKey());
    }
}
