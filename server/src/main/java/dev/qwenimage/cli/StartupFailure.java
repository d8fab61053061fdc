package dev.qwenimage.cli;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.config.Setting;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why the service did not start, said in one line for a person: what went wrong and which setting
 * to change. The exceptions come from the libraries (Jetty's bind, the PostgreSQL driver, the file
 * system); this class reads their causes so that nobody has to read a stack trace to learn that a
 * port is taken or a database does not exist.
 *
 * @param message  the line, without the {@code qwen-image: } prefix
 * @param exitCode {@value #CONFIGURATION} when a setting's value is refused, {@value #NOT_STARTED}
 *                 when the service could not start with the settings given
 */
record StartupFailure(String message, int exitCode) {
    static final int NOT_STARTED = 1;
    static final int CONFIGURATION = 2;

    private static final Pattern PG_HOST = Pattern.compile("jdbc:postgresql://(?:[^/?@]*@)?([^/?]*)"); // the host, never the user:password@ before it

    static StartupFailure explain(Throwable failure, ServerConfig config) {
        if (failure instanceof ConfigException) {
            return new StartupFailure(failure.getMessage(), CONFIGURATION);
        }
        Optional<String> listen = listening(failure, config);
        if (listen.isPresent()) {
            return new StartupFailure(listen.get(), NOT_STARTED);
        }
        Optional<SQLException> sql = find(failure, SQLException.class);
        if (sql.isPresent() && !config.database().embedded()) {
            return new StartupFailure(postgres(sql.get(), failure, config), NOT_STARTED);
        }
        Optional<FileSystemException> file = find(failure, FileSystemException.class);
        if (file.isPresent()) {
            return new StartupFailure(dataDirectory(file.get(), config), NOT_STARTED);
        }
        if (sql.isPresent()) {
            return new StartupFailure("cannot open the task database in " + config.dataDir() + " (" + rootMessage(failure)
                    + "); check that " + Setting.DATA_DIR.env() + " names a writable directory on a local disk", NOT_STARTED);
        }
        if (failure instanceof IllegalStateException && failure.getMessage() != null) {
            return new StartupFailure(failure.getMessage(), NOT_STARTED);
        }
        return new StartupFailure("could not start: " + describe(failure) + " (run `qwen-image serve --debug` for the details)",
                NOT_STARTED);
    }

    /** The HTTP listener could not open its socket. */
    private static Optional<String> listening(Throwable failure, ServerConfig config) {
        String host = config.host();
        String hostSetting = Setting.HOST.env();
        if (find(failure, UnresolvedAddressException.class).isPresent()) {
            return Optional.of("cannot listen on '" + host + "': no such host; set " + hostSetting
                    + " to an address of this machine (0.0.0.0: all interfaces)");
        }
        Optional<BindException> bind = find(failure, BindException.class);
        if (bind.isEmpty()) {
            return Optional.empty();
        }
        String why = String.valueOf(bind.get().getMessage()).toLowerCase(Locale.ROOT);
        int port = config.port();
        boolean wildcard = ServerConfig.isAllInterfaces(host);
        String where = "port " + port + (wildcard ? "" : " on " + host);
        if (why.contains("in use")) {
            return Optional.of(where + " is in use; set " + Setting.PORT.env() + " to another port (0 picks a free one)");
        }
        if (why.contains("permission denied") || why.contains("access denied") || why.contains("not permitted")) {
            return Optional.of("not permitted to listen on " + where + (port < 1024 ? " (ports below 1024 need root or "
                    + "CAP_NET_BIND_SERVICE)" : "") + "; set " + Setting.PORT.env() + " to a port from 1024 up");
        }
        if (why.contains("assign requested address") || why.contains("not available")) {
            return Optional.of("cannot listen on " + host + ": it is not an address of this machine; set " + hostSetting
                    + " to one of its addresses (0.0.0.0: all interfaces)");
        }
        return Optional.of("cannot listen on " + where + " (" + bind.get().getMessage() + "); check " + hostSetting + " and "
                + Setting.PORT.env());
    }

    /** The PostgreSQL store did not open: unreachable, refused the login, or no such database. */
    private static String postgres(SQLException e, Throwable failure, ServerConfig config) {
        Matcher m = PG_HOST.matcher(config.database().url());
        String host = m.find() && !m.group(1).isEmpty() ? m.group(1) : "localhost";
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String said = dev.qwenimage.config.Redaction.text(serverMessage(e));
        String url = Setting.DB_URL.env();
        String login = "check " + Setting.DB_USER.env() + " and " + Setting.DB_PASSWORD.env() + " (or user= and password= in "
                + url + ")";
        if (state.equals("28P01") || state.equals("28000")) {
            return "PostgreSQL at " + host + " refused the login: " + said + "; " + login;
        }
        if (state.equals("3D000")) {
            return "PostgreSQL at " + host + ": " + said + "; create it (e.g. createdb) or correct the database name in " + url;
        }
        if (state.startsWith("08") || find(failure, ConnectException.class).isPresent()) {
            Optional<UnknownHostException> unknown = find(failure, UnknownHostException.class);
            if (unknown.isPresent()) {
                return "cannot reach PostgreSQL: no such host '" + host + "'; check the host in " + url;
            }
            String why = find(failure, SocketTimeoutException.class).isPresent() ? "no answer in time"
                    : find(failure, ConnectException.class).isPresent() ? "connection refused" : said;
            return "cannot reach PostgreSQL at " + host + " (" + why + "); check that it is running and that " + url
                    + " names its host and port";
        }
        return "PostgreSQL at " + host + ": " + said + "; check " + url + " and the user's privileges (" + Setting.DB_USER.env()
                + ")";
    }

    /** What the database server said, without the driver's severity prefix. */
    private static String serverMessage(SQLException e) {
        String text = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = text.indexOf('\n');
        if (newline > 0) {
            text = text.substring(0, newline);
        }
        return text.replaceFirst("^(FATAL|ERROR):\\s*", "").strip();
    }

    /** The data directory could not be created, or a file in it written. */
    private static String dataDirectory(FileSystemException e, ServerConfig config) {
        Path dir = config.dataDir();
        String setting = Setting.DATA_DIR.env();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                return "cannot use the data directory " + dir + ": " + (p.equals(dir) ? "it is a file, not a directory"
                        : p + " is a file, not a directory") + "; set " + setting + " to a directory (it is created when missing)";
            }
        }
        String reason = e.getReason() == null ? "" : e.getReason().toLowerCase(Locale.ROOT);
        String why = e instanceof AccessDeniedException || reason.contains("permission denied") ? "permission denied"
                : reason.contains("read-only") ? "read-only file system"
                : e instanceof NoSuchFileException ? "that place cannot hold one"
                : !reason.isEmpty() ? reason : e.getClass().getSimpleName();
        String file = e.getFile() == null || e.getFile().equals(dir.toString()) ? "" : " on " + e.getFile();
        return "cannot " + (Files.isDirectory(dir) ? "write to" : "create") + " the data directory " + dir + " (" + why + file
                + "); set " + setting + " to a directory this user can write, or fix its permissions";
    }

    private static <T extends Throwable> Optional<T> find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return Optional.of(type.cast(c));
            }
        }
        return Optional.empty();
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return describe(c);
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getSimpleName() : t.getMessage();
    }
}
