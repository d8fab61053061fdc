package dev.qwenimage.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.sdk.cli.LocalServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options every command of the admin API shares: which server, which admin token, and
 * {@code --json}. The server and token are found the way the server itself keeps them, so that a
 * command run next to {@code ./qwen-image} needs none of them.
 */
final class AdminOptions {
    static final String SERVER_VARIABLE = "QWEN_IMAGE_SERVER";
    static final String TOKEN_VARIABLE = "QWEN_IMAGE_ADMIN_TOKEN";
    static final String TOKEN_FILE = "admin-token";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--server", paramLabel = "URL", order = 100,
            description = "Base URL of the server (default: $" + SERVER_VARIABLE
                    + ", else the local server on port $QWEN_IMAGE_PORT, 8080 when unset).")
    String server;

    @Option(names = "--admin-token", paramLabel = "TOKEN", order = 101,
            description = "Admin token (default: $" + TOKEN_VARIABLE + ", else the token the server writes on its first start: "
                    + TOKEN_FILE + " in the data directory).")
    String adminToken;

    @Option(names = "--data-dir", paramLabel = "DIR", order = 102,
            description = "The server's data directory, where its " + TOKEN_FILE + " is (default: $QWEN_IMAGE_DATA_DIR, else ./data).")
    String dataDir;

    @Option(names = "--json", order = 103, description = "Print the server's JSON answer instead of a table, for scripts.")
    boolean json;

    @Option(names = {"-h", "--help"}, usageHelp = true, order = 104, description = "Show this help and exit.")
    boolean help;

    private Main main() {
        return (Main) mixee.root().userObject();
    }

    private Map<String, String> env() {
        return main().env();
    }

    /** The client of the server these options name. */
    AdminClient client() {
        return new AdminClient(serverUrl(), token());
    }

    PrintWriter out() {
        return mixee.commandLine().getOut();
    }

    /** Prints {@code node} indented, as the answer of {@code --json}. */
    void printJson(JsonNode node) {
        try {
            out().println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }

    /** The server's URL: --server, else $QWEN_IMAGE_SERVER, else the local server's port (and host, when it names one). */
    AdminClient.Found serverUrl() {
        if (server != null && !server.isBlank()) {
            return new AdminClient.Found(checkedUrl(server.strip(), "--server"), "--server");
        }
        String fromEnv = env().get(SERVER_VARIABLE);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new AdminClient.Found(checkedUrl(fromEnv.strip(), SERVER_VARIABLE), SERVER_VARIABLE);
        }
        try {
            LocalServer.Located local = local().url("--server", SERVER_VARIABLE);
            return new AdminClient.Found(local.value(), local.source());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** The server started in this folder, as its settings (environment, QWEN_IMAGE_CONFIG file) describe it. */
    private LocalServer local() {
        try {
            return LocalServer.of(env(), main().workDir());
        } catch (IllegalStateException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static String checkedUrl(String url, String source) {
        if (!url.matches("(?i)https?://[^/\\s]+(/\\S*)?")) {
            throw new ConfigException(source + " must be the server's base URL, e.g. http://localhost:8080; got \""
                    + (url.length() > 60 ? url.substring(0, 60) + "..." : url) + "\"");
        }
        return url;
    }

    /** The admin token: --admin-token, else $QWEN_IMAGE_ADMIN_TOKEN, else the file the server wrote in its data directory. */
    AdminClient.Found token() {
        if (adminToken != null && !adminToken.isBlank()) {
            return new AdminClient.Found(adminToken.strip(), "--admin-token");
        }
        String fromEnv = env().get(TOKEN_VARIABLE);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new AdminClient.Found(fromEnv.strip(), TOKEN_VARIABLE);
        }
        String dirSource;
        Path shown;
        if (dataDir != null && !dataDir.isBlank()) {
            shown = Path.of(dataDir.strip()).resolve(TOKEN_FILE);
            dirSource = "--data-dir";
        } else {
            LocalServer local = local();
            shown = local.dataFile(TOKEN_FILE);
            dirSource = local.dataDirSource();
        }
        Path file = main().workDir().resolve(shown);
        if (Files.isRegularFile(file)) {
            try {
                String fromFile = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!fromFile.isEmpty()) {
                    return new AdminClient.Found(fromFile, shown.toString());
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read the admin token from " + shown + " (" + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + AdminClient.oneLine(e.getMessage()))
                        + "): run as the user that runs the server, or pass --admin-token");
            }
        }
        throw new ConfigException("no admin token: pass --admin-token, set " + TOKEN_VARIABLE + ", or point --data-dir at the "
                + "server's data directory; looked in " + file.toAbsolutePath().normalize() + " (" + dirSource + "), where the "
                + "server writes its token on its first start when " + TOKEN_VARIABLE + " is empty");
    }
}
