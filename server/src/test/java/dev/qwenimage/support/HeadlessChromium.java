package dev.qwenimage.support;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * Debian's Chromium, headless, driven by Debian's chromedriver through Selenium. Both binaries are
 * named explicitly, so Selenium Manager never runs (it would look for, and download, a browser and
 * a driver); {@link #seleniumManagerSkipped()} proves it from Selenium's own log. Chromium runs
 * with a fresh profile and its background networking off: nothing leaves the machine.
 *
 * <p>Without the binaries the caller's tests are skipped with a loud banner on the console, in CI
 * too: {@code .ci/run} installs Debian's chromium and chromium-driver first where it can, and a
 * build machine that cannot install packages still runs every other test. The browser is a
 * test tool, not part of the product.
 */
public final class HeadlessChromium implements AutoCloseable {
    /** Debian packages chromium and chromium-driver; other paths via -Dplayground.chromium / -Dplayground.chromedriver. */
    public static final Path CHROMIUM = Path.of(System.getProperty("playground.chromium", "/usr/bin/chromium"));
    public static final Path CHROMEDRIVER = Path.of(System.getProperty("playground.chromedriver", "/usr/bin/chromedriver"));

    /** Selenium's DriverFinder logs here whether it skipped Selenium Manager; held so its level sticks. */
    private static final Logger DRIVER_FINDER = Logger.getLogger("org.openqa.selenium.remote.service.DriverFinder");
    private static final Logger SELENIUM_MANAGER = Logger.getLogger("org.openqa.selenium.manager.SeleniumManager");

    private final ChromeDriver driver;
    private final List<String> seleniumLog;

    private HeadlessChromium(ChromeDriver driver, List<String> seleniumLog) {
        this.driver = driver;
        this.seleniumLog = seleniumLog;
    }

    /** Starts the browser, or skips loudly when Chromium or chromedriver is not installed. */
    public static HeadlessChromium startOrSkip(Path profileDir, Path driverLog, int width, int height) {
        for (Path binary : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(binary)) {
                String message = "browser tests need " + binary + ", which is not installed: apt-get install -y chromium chromium-driver";
                // straight to the console: surefire keeps the tests' System.err in a report file
                PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
                console.println("\n" + "!".repeat(100) + "\n!!! SKIPPING the browser tests (playground, admin page): " + message + "\n" + "!".repeat(100) + "\n");
                Assumptions.abort("SKIPPED: " + message);
            }
        }

        List<String> seleniumLog = new CopyOnWriteArrayList<>();
        Handler recorder = new Handler() {
            @Override
            public void publish(LogRecord record) {
                seleniumLog.add(record.getLoggerName() + ": " + record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        recorder.setLevel(Level.ALL);
        for (Logger logger : List.of(DRIVER_FINDER, SELENIUM_MANAGER)) {
            logger.setLevel(Level.FINE);
            logger.addHandler(recorder);
        }

        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withLogFile(driverLog.toFile())
                .withTimeout(Duration.ofSeconds(30))
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                // Debian's launcher adds Google API keys and extensions, which make Chromium look up
                // accounts.google.com and clients2.google.com: no extensions, and no name resolves
                // but the loopback test server's, so not even a DNS query leaves the machine
                "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                "--user-data-dir=" + profileDir.toAbsolutePath(),
                "--window-size=" + width + "," + height);
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return new HeadlessChromium(driver, seleniumLog);
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** True when Selenium took the driver from the service and never asked Selenium Manager for anything. */
    public boolean seleniumManagerSkipped() {
        return seleniumLog.stream().anyMatch(l -> l.contains("Skipping Selenium Manager"))
                && seleniumLog.stream().noneMatch(l -> l.startsWith(SELENIUM_MANAGER.getName()));
    }

    public List<String> seleniumLog() {
        return List.copyOf(seleniumLog);
    }

    /** The page's console messages since the last call (errors, CSP violations, failed loads). */
    public List<LogEntry> consoleEntries() {
        return driver.manage().logs().get(LogType.BROWSER).getAll();
    }

    @Override
    public void close() {
        driver.quit();
    }
}
