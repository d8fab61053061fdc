package dev.qwenimage.storage;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.Redaction;
import dev.qwenimage.config.ServerConfig.S3Settings;
import dev.qwenimage.config.Setting;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.utils.http.SdkHttpUtils;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.S3Utilities;
import software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Images in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS, Garage, Ceph RGW, S3Proxy), written
 * and read with the AWS SDK for Java v2. Links are SigV4 presigned GET URLs: the bucket serves the
 * image to whoever holds one, without credentials, until it expires; this service is not involved,
 * so any number of service processes can share the bucket.
 *
 * <p>SigV4 caps a presigned URL at {@link #MAX_LINK_TTL 7 days}; a longer or unlimited TTL (0) gets
 * 7 days, and {@link #linkTtl} says so. Links are signed with the same SDK signer and properties as
 * the SDK's {@code S3Presigner} (query-string auth, unsigned payload, no double URL-encoding, no
 * path normalisation), but with this service's clock: {@code S3Presigner} always signs with the
 * system time, which would make links disagree with the clock the rest of the service runs on.
 */
public final class S3BlobStore implements BlobStore, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(S3BlobStore.class);

    /** The longest a SigV4 presigned URL may live (X-Amz-Expires at most 604800 seconds). */
    public static final Duration MAX_LINK_TTL = Duration.ofDays(7);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(90);
    private static final String DEFAULT_REGION = "us-east-1";

    private final S3Settings settings;
    private final String bucket;
    private final Region region;
    private final AwsCredentialsProvider credentials;
    private final S3Client s3;
    /** The object URL without the key, e.g. {@code http://minio:9000/bucket/}: the SDK's address rules run once. */
    private final String linkBase;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
    private final Clock clock;

    /** A store that has not checked the bucket yet; {@link #connect} is the way in. */
    S3BlobStore(S3Settings settings, Clock clock) {
        this.settings = settings;
        this.bucket = settings.bucket();
        this.region = Region.of(settings.region());
        this.clock = clock;
        this.linkBase = linkBase(settings, region);
        this.credentials = settings.hasStaticCredentials()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()))
                : DefaultCredentialsProvider.builder().build();
        this.s3 = S3Client.builder()
                .endpointOverride(settings.endpoint())
                .region(region)
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                // The SDK's default (checksums on every upload, sent as aws-chunked trailers) is not
                // understood by every S3-compatible store; checksums where the API requires them are.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(CONNECT_TIMEOUT)
                        .socketTimeout(READ_TIMEOUT))
                .overrideConfiguration(o -> o.apiCallAttemptTimeout(ATTEMPT_TIMEOUT).apiCallTimeout(CALL_TIMEOUT))
                .build();
    }

    /**
     * Where the bucket's objects are, as the SDK addresses them (path-style or virtual-hosted, on
     * the public endpoint if one is set): the URL of a one-letter key, less that letter. Working
     * this out takes the SDK's endpoint rules about 15 microseconds, too much for every poll.
     */
    private static String linkBase(S3Settings settings, Region region) {
        S3Utilities addresses = S3Utilities.builder()
                .region(region)
                .endpoint(settings.publicEndpoint().orElse(settings.endpoint()))
                .s3Configuration(S3Configuration.builder().pathStyleAccessEnabled(settings.pathStyle()).build())
                .build();
        String one = addresses.getUrl(b -> b.bucket(settings.bucket()).key("k")).toString();
        if (!one.endsWith("/k")) {
            throw new IllegalStateException("unexpected S3 object URL " + one);
        }
        return one.substring(0, one.length() - 1);
    }

    /**
     * Connects to the bucket and checks that the service can use it: it exists (or is created when
     * {@link S3Settings#createBucket()} allows), and these credentials can write, read and delete an
     * object in it. Anything else stops the start with a {@link ConfigException} that says what to fix.
     */
    public static S3BlobStore connect(S3Settings settings, Clock clock) {
        S3BlobStore store = new S3BlobStore(settings, clock);
        try {
            store.checkBucket();
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    // ---- BlobStore -------------------------------------------------------------------------------

    @Override
    public void put(String key, byte[] bytes, String contentType) {
        String objectKey = objectKey(requireValid(key));
        try {
            s3.putObject(PutObjectRequest.builder().bucket(bucket).key(objectKey).contentType(contentType)
                    .contentLength((long) bytes.length).build(), RequestBody.fromBytes(bytes));
        } catch (SdkException e) {
            throw failure("cannot store image " + key, e);
        }
    }

    /** Puts and deletes a small object: what storing an image needs of the bucket. */
    @Override
    public void probeWrite() {
        String probe = objectKey(".qwen-image-write-probe");
        try {
            s3.putObject(PutObjectRequest.builder().bucket(bucket).key(probe).contentType("text/plain").build(),
                    RequestBody.fromBytes(PROBE_BODY));
            s3.deleteObject(b -> b.bucket(bucket).key(probe));
        } catch (SdkException e) {
            throw failure("cannot write a probe object", e);
        }
    }

    private static final byte[] PROBE_BODY = "qwen-image-server readiness probe\n".getBytes(StandardCharsets.UTF_8);

    @Override
    public Optional<Blob> open(String key) {
        if (!LocalBlobStore.isValidKey(key)) {
            return Optional.empty();
        }
        try {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(objectKey(key)));
            GetObjectResponse r = in.response();
            return Optional.of(new Blob(in, r.contentLength() == null ? -1 : r.contentLength(),
                    r.contentType() == null ? "application/octet-stream" : r.contentType()));
        } catch (SdkException e) {
            if (isMissingObject(e)) {
                return Optional.empty();
            }
            throw failure("cannot read image " + key, e);
        }
    }

    @Override
    public void delete(String key) {
        String objectKey = objectKey(requireValid(key));
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(objectKey));
        } catch (SdkException e) {
            // S3 answers 204 for a key that is not there; some compatible stores answer 404.
            if (!isMissingObject(e)) {
                throw failure("cannot delete image " + key, e);
            }
        }
    }

    /**
     * A presigned GET URL on the public endpoint (if one is set), valid for {@link #linkTtl}{@code (ttl)}
     * from now by this store's clock. {@code baseUrl} is not used: the bucket serves the image.
     */
    @Override
    public String link(String key, String baseUrl, Duration ttl) {
        URI address = URI.create(linkBase + SdkHttpUtils.urlEncodeIgnoreSlashes(objectKey(requireValid(key))));
        SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.GET).uri(address).build();
        return signer.sign(r -> r.identity(credentials.resolveCredentials())
                        .request(request)
                        .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, "s3")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region.id())
                        .putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
                        .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, linkTtl(ttl))
                        .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                        .putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, false)
                        .putProperty(AwsV4FamilyHttpSigner.NORMALIZE_PATH, false)
                        .putProperty(HttpSigner.SIGNING_CLOCK, clock))
                .request().getUri().toString();
    }

    /** {@code ttl}, except that no presigned URL outlives {@link #MAX_LINK_TTL}, "no expiry" included. */
    @Override
    public Duration linkTtl(Duration requested) {
        return requested.isZero() || requested.compareTo(MAX_LINK_TTL) > 0 ? MAX_LINK_TTL : requested;
    }

    @Override
    public void close() {
        s3.close();
        if (credentials instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                log.debug("closing the S3 credentials provider failed", e);
            }
        }
    }

    public S3Settings settings() {
        return settings;
    }

    /** The key an image is stored under in the bucket: the configured prefix, then the image's key. */
    public String objectKey(String key) {
        return settings.prefix() + key;
    }

    // ---- start-up check --------------------------------------------------------------------------

    private void checkBucket() {
        try {
            credentials.resolveCredentials();
        } catch (SdkClientException e) {
            throw new ConfigException("no credentials for the S3 store: set " + Setting.S3_ACCESS_KEY.env() + " and "
                    + Setting.S3_SECRET_KEY.env() + ", or provide them the AWS way (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                    + "a ~/.aws profile, an instance or container role): " + e.getMessage());
        }
        if (!bucketExists()) {
            if (!settings.createBucket()) {
                throw new ConfigException("the S3 bucket '" + bucket + "' does not exist at " + Redaction.url(settings.endpoint())
                        + ": create it, or set " + Setting.S3_CREATE_BUCKET.env() + "=on to let the service create it");
            }
            createBucket();
        }
        checkReadWriteDelete();
    }

    private boolean bucketExists() {
        try {
            s3.headBucket(b -> b.bucket(bucket));
            return true;
        } catch (NoSuchBucketException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            Optional<String> bucketRegion = e.awsErrorDetails() == null ? Optional.empty()
                    : e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-bucket-region");
            if (bucketRegion.isPresent() && !bucketRegion.get().equals(region.id())) {
                throw new ConfigException("the S3 bucket '" + bucket + "' is in region " + bucketRegion.get() + ", not "
                        + region.id() + ": set " + Setting.S3_REGION.env() + "=" + bucketRegion.get());
            }
            if (e.statusCode() == 403) {
                throw new ConfigException(accessDenied());
            }
            throw new ConfigException("the S3 store at " + Redaction.url(settings.endpoint()) + " refused to look up bucket '" + bucket
                    + "': " + reason(e));
        } catch (SdkClientException e) {
            throw unreachable(e);
        }
    }

    /**
     * Why the store answered 403 to the bucket check. HEAD responses have no body, so the error code
     * that tells a wrong key from a wrong secret from a missing permission comes from one GET.
     */
    private String accessDenied() {
        String code;
        String detail;
        try {
            s3.listObjectsV2(b -> b.bucket(bucket).maxKeys(1));
            code = "";
            detail = "HTTP 403";
        } catch (S3Exception e) {
            code = e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null ? "" : e.awsErrorDetails().errorCode();
            detail = reason(e);
        } catch (SdkException e) {
            code = "";
            detail = "HTTP 403";
        }
        boolean configured = settings.hasStaticCredentials();
        String accessKey = configured ? "the access key in " + Setting.S3_ACCESS_KEY.env()
                : "the access key the AWS default credentials chain found (" + Setting.S3_ACCESS_KEY.env() + " is empty)";
        String where = " (" + Redaction.url(settings.endpoint()) + ", bucket '" + bucket + "'; " + detail + ")";
        return switch (code) {
            case "InvalidAccessKeyId" -> "the S3 store does not know " + accessKey + where;
            case "SignatureDoesNotMatch" -> "the S3 store rejected the request signature: "
                    + (configured ? Setting.S3_SECRET_KEY.env() + " is not the secret key of " + accessKey
                            : "the secret key does not belong to " + accessKey) + where;
            case "RequestTimeTooSkewed" -> "this machine's clock is too far from the S3 store's; synchronise it (NTP)" + where;
            default -> "the S3 store denied " + accessKey + " access to the bucket" + where
                    + ": the service needs s3:ListBucket, s3:PutObject, s3:GetObject and s3:DeleteObject on it";
        };
    }

    private void createBucket() {
        try {
            s3.createBucket(b -> {
                b.bucket(bucket);
                if (!region.id().equals(DEFAULT_REGION)) {
                    b.createBucketConfiguration(c -> c.locationConstraint(region.id()));
                }
            });
            log.info("created the S3 bucket {} at {}", bucket, Redaction.url(settings.endpoint()));
        } catch (BucketAlreadyOwnedByYouException e) {
            log.debug("bucket {} was created meanwhile (another instance?)", bucket);
        } catch (BucketAlreadyExistsException e) {
            throw new ConfigException("cannot create the S3 bucket '" + bucket + "': the name is taken by another account; "
                    + "choose another " + Setting.S3_BUCKET.env());
        } catch (S3Exception e) {
            throw new ConfigException("cannot create the S3 bucket '" + bucket + "' at " + Redaction.url(settings.endpoint()) + ": " + reason(e)
                    + "; create it yourself, or give the credentials s3:CreateBucket");
        } catch (SdkClientException e) {
            throw unreachable(e);
        }
    }

    /** Writes, reads back and deletes a small object: the three things the service does with images. */
    private void checkReadWriteDelete() {
        String probe = objectKey(".qwen-image-write-check-" + UUID.randomUUID());
        byte[] body = "qwen-image-server checks that it can write, read and delete here\n".getBytes(StandardCharsets.UTF_8);
        String step = "write";
        try {
            s3.putObject(PutObjectRequest.builder().bucket(bucket).key(probe).contentType("text/plain").build(),
                    RequestBody.fromBytes(body));
            step = "read";
            byte[] back = s3.getObjectAsBytes(b -> b.bucket(bucket).key(probe)).asByteArray();
            if (!Arrays.equals(back, body)) {
                throw new ConfigException("the S3 bucket '" + bucket + "' at " + Redaction.url(settings.endpoint())
                        + " returned other bytes than were written to " + probe);
            }
            step = "delete";
            s3.deleteObject(b -> b.bucket(bucket).key(probe));
        } catch (S3Exception e) {
            throw new ConfigException("the S3 bucket '" + bucket + "' at " + Redaction.url(settings.endpoint()) + " does not let the service "
                    + step + " objects (" + step + " of " + probe + ": " + reason(e) + "): the service needs s3:PutObject, s3:GetObject and "
                    + "s3:DeleteObject on it");
        } catch (SdkClientException e) {
            throw unreachable(e);
        }
    }

    private ConfigException unreachable(SdkClientException e) {
        return new ConfigException("cannot reach the S3 store at " + Redaction.url(settings.endpoint()) + " (" + Redaction.text(e.getMessage()) + "); check "
                + Setting.S3_ENDPOINT.env() + " and that the store is running");
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static String requireValid(String key) {
        if (!LocalBlobStore.isValidKey(key)) {
            throw new IllegalArgumentException("invalid object key: " + key);
        }
        return key;
    }

    /** The object is not there (as opposed to the bucket missing, which is an error). */
    private static boolean isMissingObject(SdkException e) {
        if (e instanceof NoSuchKeyException) {
            return true;
        }
        return e instanceof S3Exception s && s.statusCode() == 404 && !(e instanceof NoSuchBucketException)
                && !"NoSuchBucket".equals(s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorCode());
    }

    private UncheckedIOException failure(String what, SdkException e) {
        return new UncheckedIOException(what + " in S3 bucket " + bucket + " at " + Redaction.url(settings.endpoint()) + ": " + reason(e),
                new IOException(reason(e), e));
    }

    /** The store's answer (status, error code, message) or the client-side cause, for messages. */
    static String reason(SdkException e) {
        if (e instanceof AwsServiceException a) {
            var details = a.awsErrorDetails();
            String code = details == null ? null : details.errorCode();
            String message = details == null ? null : details.errorMessage();
            return "HTTP " + a.statusCode() + (code == null || code.isBlank() ? "" : " " + code)
                    + (message == null || message.isBlank() ? "" : ": " + message);
        }
        return Redaction.text(e.getMessage());
    }
}
