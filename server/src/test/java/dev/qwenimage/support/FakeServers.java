package dev.qwenimage.support;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

/** What the in-process fakes of external engines share: a Javalin on loopback, dropped connections, PNG payloads. */
public final class FakeServers {
    private FakeServers() {
    }

    /** Starts a Javalin on 127.0.0.1 at {@code port} (0: any free port). */
    public static Javalin start(int port, Consumer<JavalinConfig> routes) {
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.jetty.host = "127.0.0.1";
            cfg.jetty.port = port;
            cfg.http.maxRequestSize = 64L * 1024 * 1024; // as real engines: an edit's input image travels in the body
            routes.accept(cfg);
        }).start();
    }

    /** Closes the request's TCP connection at once, before any answer: the client sees the socket die mid-request. */
    public static void dropConnection(Context ctx) {
        ServletContextRequest.getServletContextRequest(ctx.req()).getConnectionMetaData().getConnection().getEndPoint().close();
    }

    /** A {@code width} x {@code height} PNG in one colour, base64-encoded as engines return it. */
    public static String pngBase64(int width, int height, Color color) {
        return Base64.getEncoder().encodeToString(png(width, height, color));
    }

    public static byte[] png(int width, int height, Color color) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, width, height);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
