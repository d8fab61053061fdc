package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.LocalS3;
import dev.qwenimage.support.ServerProcess;
import dev.qwenimage.support.ServerProcess.Finished;
import dev.qwenimage.support.TestServer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every start-up failure a newcomer can run into ends the real process with one line on stderr,
 * starting {@code qwen-image:}, saying what is wrong and which setting to change, and a non-zero
 * exit code: 2 for a refused value, 1 when the service could not start. No library prints its
 * stack trace on the way out; {@code --debug} adds it.
 */
class StartupFailuresTest {
    @TempDir
    Path dataDir;

    /** Starts {@code qwen-image serve} with these settings (the NSFW model is not needed to fail). */
    private Finished serve(Map<String, String> env, String... args) {
        Map<String, String> all = new HashMap<>(Map.of("QWEN_IMAGE_NSFW", "off"));
        all.putAll(env);
        String[] command = new String[args.length + 1];
        command[0] = "serve";
        System.arraycopy(args, 0, command, 1, args.length);
        return ServerProcess.run(dataDir, all, command);
    }

    /** The one line, after checking that it is the only output and the process failed with {@code code}. */
    private static String oneLine(Finished f, int code) {
        assertThat(f.errLines()).as("stderr:\n%s", f.err()).hasSize(1);
        assertThat(f.out()).as("stdout").isEmpty();
        assertThat(f.exitCode()).as(f.err()).isEqualTo(code);
        String line = f.errLines().getFirst();
        assertThat(line).startsWith("qwen-image: ");
        return line;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aPortInUseIsOneLineNamingQwenImagePort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();

            String line = oneLine(serve(Map.of("QWEN_IMAGE_PORT", String.valueOf(port))), 1);

            assertThat(line).isEqualTo("qwen-image: port " + port + " on 127.0.0.1 is in use; set QWEN_IMAGE_PORT to another "
                    + "port (0 picks a free one)");
        }
    }

    @Test
    void debugAddsTheStackTrace() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Finished f = serve(Map.of("QWEN_IMAGE_PORT", String.valueOf(taken.getLocalPort())), "--debug");

            assertThat(f.exitCode()).isEqualTo(1);
            assertThat(f.errLines()).anySatisfy(l -> assertThat(l).startsWith("qwen-image: port ").contains("is in use"));
            assertThat(f.err()).contains("java.net.BindException").contains("\tat ");
            assertThat(f.err()).as("the libraries' own reports are not held back either").contains("Failed to start Javalin");
        }
    }

    @Test
    void aHostThatIsNotOneOfThisMachinesIsOneLineNamingQwenImageHost() {
        // 192.0.2.1 is TEST-NET-1: documentation only, never a local address
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_HOST", "192.0.2.1")), 1))
                .isEqualTo("qwen-image: cannot listen on 192.0.2.1: it is not an address of this machine; set QWEN_IMAGE_HOST "
                        + "to one of its addresses (0.0.0.0: all interfaces)");
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_HOST", "no-such-host.invalid")), 1))
                .contains("cannot listen on 'no-such-host.invalid': no such host").contains("QWEN_IMAGE_HOST");
    }

    @Test
    void anUnreachablePostgresIsOneLineNamingQwenImageDbUrl() throws Exception {
        int port = closedPort();

        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_DB_URL", "jdbc:postgresql://127.0.0.1:" + port + "/qwen?password=hunter2")), 1))
                .isEqualTo("qwen-image: cannot reach PostgreSQL at 127.0.0.1:" + port + " (connection refused); check that it is "
                        + "running and that QWEN_IMAGE_DB_URL names its host and port");
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_DB_URL", "jdbc:postgresql://no-such-host.invalid/qwen")), 1))
                .isEqualTo("qwen-image: cannot reach PostgreSQL: no such host 'no-such-host.invalid'; check the host in "
                        + "QWEN_IMAGE_DB_URL");
    }

    @Test
    void aMissingDatabaseOrUserIsOneLineSayingWhatToFix() {
        LocalPostgres.requireServer();
        String base = System.getenv().getOrDefault("QWEN_IMAGE_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

        String noDatabase = base.replaceFirst("/[^/?]+(\\?|$)", "/no_such_database_here$1");
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_DB_URL", noDatabase)), 1))
                .contains("database \"no_such_database_here\" does not exist")
                .contains("create it").contains("QWEN_IMAGE_DB_URL");

        String noUser = base.replaceAll("user=[^&]*", "user=no_such_role_here");
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_DB_URL", noUser)), 1))
                .contains("refused the login: role \"no_such_role_here\" does not exist")
                .contains("QWEN_IMAGE_DB_USER").contains("QWEN_IMAGE_DB_PASSWORD");
    }

    @Test
    void aRefusedPasswordIsOneLineAndThePasswordIsNotShown() throws Exception {
        try (FakePostgres pg = new FakePostgres("28P01", "password authentication failed for user \"qwen\"")) {
            String line = oneLine(serve(Map.of("QWEN_IMAGE_DB_URL", "jdbc:postgresql://127.0.0.1:" + pg.port() + "/qwen",
                    "QWEN_IMAGE_DB_USER", "qwen", "QWEN_IMAGE_DB_PASSWORD", "hunter2")), 1);

            assertThat(line).isEqualTo("qwen-image: PostgreSQL at 127.0.0.1:" + pg.port() + " refused the login: password "
                    + "authentication failed for user \"qwen\"; check QWEN_IMAGE_DB_USER and QWEN_IMAGE_DB_PASSWORD (or user= "
                    + "and password= in QWEN_IMAGE_DB_URL)");
        }
    }

    @Test
    void anUnreachableStoreOrAMissingBucketIsOneLine() throws Exception {
        int port = closedPort();
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_S3_ENDPOINT", "http://127.0.0.1:" + port, "QWEN_IMAGE_S3_BUCKET", "images",
                "QWEN_IMAGE_S3_ACCESS_KEY", "a", "QWEN_IMAGE_S3_SECRET_KEY", "b")), 2))
                .contains("cannot reach the S3 store at http://127.0.0.1:" + port).contains("QWEN_IMAGE_S3_ENDPOINT");

        try (LocalS3 s3 = LocalS3.start()) {
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("QWEN_IMAGE_S3_BUCKET", "no-such-bucket");
            assertThat(oneLine(serve(env), 2))
                    .contains("the S3 bucket 'no-such-bucket' does not exist").contains("QWEN_IMAGE_S3_CREATE_BUCKET");
        }
    }

    @Test
    void aDataDirectoryThatCannotBeOneIsOneLineNamingQwenImageDataDir() throws Exception {
        Path file = Files.writeString(dataDir.resolve("a-file"), "not a directory");

        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_DATA_DIR", file.toString())), 1))
                .isEqualTo("qwen-image: cannot use the data directory " + file + ": it is a file, not a directory; "
                        + "set QWEN_IMAGE_DATA_DIR to a directory (it is created when missing)");
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_DATA_DIR", file.resolve("data").toString())), 1))
                .isEqualTo("qwen-image: cannot use the data directory " + file.resolve("data") + ": " + file
                        + " is a file, not a directory; set QWEN_IMAGE_DATA_DIR to a directory (it is created when missing)");
    }

    @Test
    void aDataDirectoryInUseByAnotherServerIsOneLine() {
        try (TestServer running = TestServer.start(dataDir, Map.of())) {
            assertThat(oneLine(serve(Map.of()), 1))
                    .isEqualTo("qwen-image: another qwen-image-server is already using the data directory " + dataDir
                            + "; stop it or set QWEN_IMAGE_DATA_DIR to another directory");
        }
    }

    @Test
    void aRefusedValueIsOneLineWithExitCode2() {
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_RETENTION", "5")), 2)).startsWith("qwen-image: QWEN_IMAGE_RETENTION must be");
        assertThat(oneLine(serve(Map.of("QWEN_IMAGE_ENGINES", "comfyui:http://127.0.0.1:1?stpes=8")), 2))
                .contains("unknown option 'stpes' (did you mean steps?)");
        assertThat(oneLine(serve(Map.of(), "--set", "QWEN_IMAGE_WROKERS=3"), 2))
                .isEqualTo("qwen-image: unknown setting QWEN_IMAGE_WROKERS; did you mean QWEN_IMAGE_WORKERS?");
    }

    @Test
    void anUnknownOptionOrCommandIsOneLineWithTheOneMeant() {
        assertThat(oneLine(serve(Map.of(), "--prot", "9000"), 2))
                .startsWith("qwen-image: Unknown options: '--prot', '9000'; did you mean --port?")
                .endsWith("(qwen-image serve --help lists the options)");
        assertThat(oneLine(ServerProcess.run(dataDir, Map.of(), "serv"), 2))
                .contains("'serv'; did you mean serve?");
    }

    /**
     * A PostgreSQL server as far as its wire protocol's start-up goes (SSL declined, then the
     * StartupMessage), answering every login with one ErrorResponse.
     */
    static final class FakePostgres implements AutoCloseable {
        private static final int SSL_REQUEST = 80877103;
        private static final int GSS_REQUEST = 80877104;
        private final ServerSocket socket;

        FakePostgres(String sqlState, String message) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofPlatform().daemon(true).start(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        answer(s, sqlState, message);
                    } catch (IOException e) {
                        // the client hung up, or the fake is closing
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        private static void answer(Socket s, String sqlState, String message) throws IOException {
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            while (true) {
                int length = in.readInt();
                int code = in.readInt();
                in.readNBytes(length - 8);
                if (code == SSL_REQUEST || code == GSS_REQUEST) {
                    out.writeByte('N');
                    out.flush();
                    continue;
                }
                break; // the StartupMessage
            }
            byte[] fields = ("SFATAL\0VFATAL\0C" + sqlState + "\0M" + message + "\0\0").getBytes(StandardCharsets.UTF_8);
            out.writeByte('E');
            out.writeInt(4 + fields.length);
            out.write(fields);
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
