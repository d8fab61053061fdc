package dev.qwenimage.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Sets up logging once at start-up: the level, and either human-readable lines or one JSON object
 * per line (Logback's JSON encoder: timestamp, level, logger, thread, message, throwable) for log
 * shippers. Libraries are kept at WARN.
 */
public final class Logging {
    private static final Map<String, Level> QUIET = Map.of("org.eclipse.jetty", Level.WARN, "io.javalin", Level.WARN,
            "org.flywaydb", Level.WARN, "com.zaxxer.hikari", Level.WARN, "software.amazon", Level.WARN, "org.gaul", Level.WARN);

    private Logging() {
    }

    /** @param format {@code text} or {@code json} */
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
