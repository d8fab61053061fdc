package dev.qwenimage.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.gaul.s3proxy.AccessGrant;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.S3ProxyConstants;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.middleware.Middlewares;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 server for tests: S3Proxy on its filesystem store (a temporary directory), listening
 * on a random TCP port of 127.0.0.1 and checking AWS signatures (V2 and V4) against random
 * credentials. Other processes on this machine can use it too: hand them {@link #env()}.
 *
 * <p>Besides the read-write credentials ({@link #accessKey()}, {@link #secretKey()}) it knows a
 * second identity, {@link #readOnlyAccessKey()}, whose requests see the same buckets through
 * S3Proxy's read-only middleware (writes are refused with 501 Not Implemented).
 */
public final class LocalS3 implements AutoCloseable {
    public static final String DEFAULT_BUCKET = "qwen-images";
    public static final String REGION = "us-east-1";

    private final Path dir;
    private final BlobStore store;
    private final S3Proxy proxy;
    private final URI endpoint;
    private final String accessKey = "local-" + random(8);
    private final String secretKey = random(20);
    private final String readOnlyAccessKey = "reader-" + random(8);
    private final String readOnlySecretKey = random(20);
    private final String bucket;
    private final S3Client client;

    private LocalS3(String bucket) throws Exception {
        this.bucket = bucket;
        dir = Files.createTempDirectory("local-s3-");
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", dir.toString());
        store = BlobStores.create("filesystem", props);
        Properties readOnly = new Properties();
        readOnly.setProperty(S3ProxyConstants.PROPERTY_READ_ONLY_BLOBSTORE, "true");
        BlobStore readOnlyStore = Middlewares.wrap(store, readOnly, p -> {
            throw new IllegalStateException("no second backend is configured");
        });
        proxy = S3Proxy.builder()
                .blobStore(store)
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .stopTimeout(0)
                .build();
        proxy.setBlobStoreLocator((identity, container, blob) -> {
            if (accessKey.equals(identity)) {
                return new AccessGrant(secretKey, store);
            }
            if (readOnlyAccessKey.equals(identity)) {
                return new AccessGrant(readOnlySecretKey, readOnlyStore);
            }
            return null;
        });
        proxy.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        client = S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .build();
        client.createBucket(b -> b.bucket(bucket));
    }

    /** The folder S3Proxy keeps its buckets in (one sub-folder per bucket), for fault tests. */
    public Path directory() {
        return dir;
    }

    /** Starts S3Proxy with the bucket {@value #DEFAULT_BUCKET}. */
    public static LocalS3 start() {
        return start(DEFAULT_BUCKET);
    }

    public static LocalS3 start(String bucket) {
        try {
            return new LocalS3(bucket);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start S3Proxy", e);
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI endpoint() {
        return endpoint;
    }

    public String bucket() {
        return bucket;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public String readOnlyAccessKey() {
        return readOnlyAccessKey;
    }

    public String readOnlySecretKey() {
        return readOnlySecretKey;
    }

    /** The service's settings for this store (path-style, no prefix), ready for TestServer or a process environment. */
    public Map<String, String> env() {
        return env("");
    }

    /** The service's settings for this store with a key prefix. */
    public Map<String, String> env(String prefix) {
        Map<String, String> env = new HashMap<>();
        env.put("QWEN_IMAGE_S3_ENDPOINT", endpoint.toString());
        env.put("QWEN_IMAGE_S3_BUCKET", bucket);
        env.put("QWEN_IMAGE_S3_REGION", REGION);
        env.put("QWEN_IMAGE_S3_ACCESS_KEY", accessKey);
        env.put("QWEN_IMAGE_S3_SECRET_KEY", secretKey);
        env.put("QWEN_IMAGE_S3_PATH_STYLE", "on");
        env.put("QWEN_IMAGE_S3_PREFIX", prefix);
        return env;
    }

    /** A client with the read-write credentials, for looking at the bucket from the outside. */
    public S3Client client() {
        return client;
    }

    /** The object's bytes, or empty if it does not exist. */
    public Optional<byte[]> get(String key) {
        try {
            return Optional.of(client.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    public boolean exists(String key) {
        return get(key).isPresent();
    }

    /** Every key in the bucket, in key order. */
    public List<String> keys() {
        return client.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream().map(S3Object::key).toList();
    }

    public void createBucket(String name) {
        client.createBucket(b -> b.bucket(name));
    }

    public boolean bucketExists(String name) {
        try {
            client.headBucket(b -> b.bucket(name));
            return true;
        } catch (SdkException e) {
            return false;
        }
    }

    @Override
    public void close() {
        client.close();
        try {
            proxy.stop();
            store.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy", e);
        } finally {
            deleteRecursively(dir);
        }
    }

    private static void deleteRecursively(Path root) {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
