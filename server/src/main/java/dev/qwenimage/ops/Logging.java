package dev.qwenimage.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.FilterReply;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Sets up logging once at start-up: the level, and either human-readable lines or one JSON object
 * per line (Logback's JSON encoder: timestamp, level, logger, thread, message, throwable) for log
 * shippers. Libraries are kept at WARN.
 */
public final class Logging {
    private static final Map<String, Level> QUIET = Map.of("org.eclipse.jetty", Level.WARN, "io.javalin", Level.WARN,
            "org.flywaydb", Level.WARN, "com.zaxxer.hikari", Level.WARN, "software.amazon", Level.WARN, "org.gaul", Level.WARN);
    private static final String OWN = "dev.qwenimage.";

    private Logging() {
    }

    /** A stretch of time during which some log events are held back; {@link #close} ends it. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Until the returned scope is closed, drops the libraries' own reports of a failure (Jetty,
     * Javalin, HikariCP, Flyway, the AWS SDK: anything outside this project logging at ERROR, or
     * a throwable at WARN). A start-up failure reaches the command line as the exception itself,
     * which says what went wrong in one line; the libraries' copies of it would bury that line
     * under their stack traces. Their warnings, and every line of this project, pass.
     */
    public static Scope withoutLibraryTraces() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return () -> {
            };
        }
        TurboFilter filter = new TurboFilter() {
            @Override
            public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
                if (level == null || logger.getName().startsWith(OWN)) {
                    return FilterReply.NEUTRAL;
                }
                boolean carriesThrowable = t != null || params != null && params.length > 0 && params[params.length - 1] instanceof Throwable;
                return level.isGreaterOrEqual(Level.ERROR) || carriesThrowable && level.isGreaterOrEqual(Level.WARN)
                        ? FilterReply.DENY : FilterReply.NEUTRAL;
            }
        };
        filter.setContext(context);
        filter.start();
        context.addTurboFilter(filter);
        return () -> {
            context.getTurboFilterList().remove(filter);
            filter.stop();
        };
    }

    /** @param format {@code text} or {@code json} */
    /** A short id for an error that a client's message quotes and the log line carries, so one finds the other. */
    public static String errorId() {
        return java.util.UUID.randomUUID().toString().substring(0, 8);
    }

    public static void configure(String level, String format) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J provider on the class path: leave it alone
        }
        context.reset();
        Encoder<ILoggingEvent> encoder;
        if (format.equals("json")) {
            JsonEncoder json = new JsonEncoder();
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.setWithFormattedMessage(true);
            json.setWithMessage(false);
            json.setWithArguments(false);
            encoder = json;
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} [%thread] %-5level %logger{0} - %msg%n");
            encoder = text;
        }
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
        out.setContext(context);
        out.setName("stderr");
        out.setTarget("System.err");
        out.setEncoder(encoder);
        out.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level.toUpperCase(Locale.ROOT), Level.INFO));
        root.addAppender(out);
        QUIET.forEach((name, l) -> context.getLogger(name).setLevel(l));
    }
}
