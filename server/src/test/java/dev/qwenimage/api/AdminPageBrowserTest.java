package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.support.Admin;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.HeadlessChromium;
import dev.qwenimage.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin page end to end in a real headless Chromium against a real server: what a person sees
 * and does (the token, the key list, a new key's secret shown once, rotate, edit, revoke, the chart),
 * checked against what the admin API and the public API then really answer.
 */
class AdminPageBrowserTest {
    static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
    /** Where anyone can look at the page as the test left it. */
    static final Path SCREENSHOT = Path.of("target", "admin-page-screenshot.png");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;
    @TempDir
    static Path profileDir;
    static HeadlessChromium chromium;
    static ChromeDriver driver;
    static TestServer server;
    static Api api;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(Path.of("target"));
        chromium = HeadlessChromium.startOrSkip(profileDir, Path.of("target", "chromedriver-admin.log"), 1400, 1800);
        driver = chromium.driver();
        server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_ADMIN_TOKEN", ADMIN_TOKEN));
        api = server.api();
        admin = server.admin();
        // the page copies secrets with the Clipboard API; reading it back needs the permission too
        driver.executeCdpCommand("Browser.grantPermissions", Map.of("origin", api.baseUrl(),
                "permissions", List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
    }

    @AfterAll
    static void stop() {
        if (chromium != null) {
            chromium.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void freshPage() {
        // forgotten on a page of the same origin that runs no script, so that no sign-in still under way puts it back
        driver.get(api.baseUrl() + "/healthz");
        js("sessionStorage.clear();");
        driver.get(api.baseUrl() + "/admin");
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("admin-token")).isDisplayed());
        chromium.consoleEntries(); // start each test with an empty console log
    }

    @Test
    void aWrongTokenAndAnApiKeyAreRefusedWithTheServersOwnMessages() {
        String wrong = admin.withToken("not-the-admin-token").get("/admin/v1/keys").json().get("message").asText();
        String apiKey = admin.withToken(TestServer.KEY).get("/admin/v1/keys").json().get("message").asText();

        signIn("not-the-admin-token");
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("signin-error")).isDisplayed());
        assertThat(text("#signin-error .error-message")).isEqualTo(wrong);
        assertThat(text("#signin-error .error-detail")).contains("INVALID_ADMIN_TOKEN").contains("401").contains("admin token");

        signIn(TestServer.KEY);
        waitFor(Duration.ofSeconds(10), d -> text("#signin-error .error-message").equals(apiKey));
        assertThat(text("#signin-error .error-detail")).contains("ADMIN_TOKEN_REQUIRED").contains("403").contains("API key");

        assertThat(driver.findElement(By.id("app")).isDisplayed()).isFalse();
        assertThat(js("return sessionStorage.length;")).isEqualTo(0L);
    }

    @Test
    void theTokenOpensThePageForThisTabOnlyAndNeverGoesInTheUrl() {
        signInAsAdmin();

        // the bootstrap keys are listed, marked, and offer no action
        List<WebElement> bootstrap = driver.findElements(By.xpath("//tbody[@id='keys']/tr[.//span[contains(@class,'bootstrap')]]"));
        assertThat(bootstrap).hasSize(2);
        assertThat(bootstrap.getFirst().findElements(By.cssSelector("button"))).isEmpty();
        assertThat(bootstrap.getFirst().getText()).contains("not editable").contains("active");
        assertThat(js("return sessionStorage.getItem('qwen-image-admin.token');")).isEqualTo(ADMIN_TOKEN);
        assertThat(js("return localStorage.length;")).isEqualTo(0L);
        assertThat(driver.getCurrentUrl()).isEqualTo(api.baseUrl() + "/admin").doesNotContain(ADMIN_TOKEN);

        // a reload keeps it open; "Forget" closes it and removes the token
        driver.navigate().refresh();
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("app")).isDisplayed());
        driver.findElement(By.id("forget-token")).click();
        assertThat(driver.findElement(By.id("admin-token")).isDisplayed()).isTrue();
        assertThat(driver.findElement(By.id("app")).isDisplayed()).isFalse();
        assertThat(js("return sessionStorage.length;")).isEqualTo(0L);
    }

    @Test
    void aNewKeyShowsItsSecretOnceWithACopyButtonAndTheSecretWorks() {
        signInAsAdmin();
        String name = "acme-" + UUID.randomUUID().toString().substring(0, 8);

        JsonNode key = createInPage(name, Map.of("images_per_day", "50"), "team=growth");

        // the secret is shown with a copy button and the note that it is not shown again
        String secret = text("#secret-value");
        assertThat(text("#secret-title")).contains(name);
        assertThat(text("#secret")).contains("only time this secret is shown");
        WebElement copy = driver.findElement(By.id("copy-secret"));
        assertThat(copy.isDisplayed()).isTrue();
        copy.click();
        waitFor(Duration.ofSeconds(5), d -> text("#copy-status").equals("Copied to the clipboard."));
        assertThat(clipboard()).isEqualTo(secret);
        assertThat(secret).startsWith(key.get("prefix").asText());

        // the new key is listed with what was set on it, and the secret works for the public API
        WebElement row = row(key.get("id").asText());
        assertThat(row.getText()).contains(name).contains(key.get("prefix").asText()).contains("active").contains("team=growth");
        assertThat(row.findElement(By.cssSelector("dd[data-limit='images_per_day']")).getText()).isEqualTo("50 / day");
        assertThat(row.findElement(By.cssSelector("dd[data-limit='images_per_day']")).getDomAttribute("class")).isEqualTo("set");
        assertThat(key.at("/limits/images_per_day").asInt()).isEqualTo(50);
        assertThat(key.at("/labels/team").asText()).isEqualTo("growth");
        assertThat(api.withKey(secret).submit("{\"prompt\": \"a new key\", \"size\": \"256*256\"}").status()).isEqualTo(200);

        // hidden, it is gone from the page; and no reload brings it back
        driver.findElement(By.id("dismiss-secret")).click();
        assertThat(driver.findElement(By.id("secret")).isDisplayed()).isFalse();
        assertThat(driver.getPageSource()).doesNotContain(secret);
        driver.navigate().refresh();
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("app")).isDisplayed());
        assertThat(driver.getPageSource()).doesNotContain(secret);
        assertThat(noErrorsButRefusedCalls()).isEmpty();
    }

    @Test
    void rotateShowsTheNewSecretOnceAndTheOldOneWorksForTheGrace() {
        signInAsAdmin();
        String oldSecret = createOverHttp("rotated-" + UUID.randomUUID().toString().substring(0, 8)).get("secret").asText();
        String id = keyIdOf(oldSecret);
        refreshUntilListed(id);

        row(id).findElement(By.cssSelector("button.rotate")).click();
        WebElement grace = driver.findElement(By.id("rotate-grace"));
        grace.clear();
        grace.sendKeys("3600");
        assertThat(text("#rotate-grace-help")).contains("1 h");
        driver.findElement(By.id("rotate-submit")).click();

        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("secret")).isDisplayed());
        String newSecret = text("#secret-value");
        assertThat(newSecret).isNotEqualTo(oldSecret);
        assertThat(text("#copy-status")).startsWith("The old secret works until");
        assertThat(driver.findElement(By.id("copy-secret")).isDisplayed()).isTrue();
        waitFor(Duration.ofSeconds(10), d -> row(id).getText().contains("old secret works until"));
        assertThat(api.withKey(newSecret).submit("{\"prompt\": \"new secret\", \"size\": \"256*256\"}").status()).isEqualTo(200);
        assertThat(api.withKey(oldSecret).submit("{\"prompt\": \"old secret, in grace\", \"size\": \"256*256\"}").status()).isEqualTo(200);
    }

    @Test
    void editChangesTheNameAndALimitAndAnEmptiedLimitGoesBackToTheDefault() {
        signInAsAdmin();
        JsonNode created = createOverHttp("edit-me-" + UUID.randomUUID().toString().substring(0, 8),
                Map.of("images_per_day", 40, "max_queued", 7));
        String id = created.get("id").asText();
        refreshUntilListed(id);

        row(id).findElement(By.cssSelector("button.edit")).click();
        assertThat(driver.findElement(By.id("limit-images_per_day")).getDomProperty("value")).isEqualTo("40");
        replaceText("key-name", "edited-name");
        replaceText("limit-max_queued", "3");
        replaceText("limit-images_per_day", "");
        driver.findElement(By.id("key-form-submit")).click();

        waitFor(Duration.ofSeconds(10), d -> !d.findElement(By.id("key-dialog")).isDisplayed());
        waitFor(Duration.ofSeconds(10), d -> row(id).getText().contains("edited-name"));
        JsonNode key = admin.get("/admin/v1/keys/" + id).json();
        assertThat(key.get("name").asText()).isEqualTo("edited-name");
        assertThat(key.at("/limits/max_queued").asInt()).isEqualTo(3);
        assertThat(key.at("/limits/images_per_day").isNull()).isTrue();
        assertThat(row(id).findElement(By.cssSelector("dd[data-limit='max_queued']")).getText()).isEqualTo("3");
        assertThat(row(id).findElement(By.cssSelector("dd[data-limit='images_per_day']")).getDomAttribute("class")).isEqualTo("default");
    }

    @Test
    void revokeAsksFirstAndThenTheSecretIsRefused() {
        signInAsAdmin();
        String secret = createOverHttp("revoke-me-" + UUID.randomUUID().toString().substring(0, 8)).get("secret").asText();
        String id = keyIdOf(secret);
        refreshUntilListed(id);

        // saying no to the question changes nothing
        row(id).findElement(By.cssSelector("button.revoke")).click();
        Alert question = new WebDriverWait(driver, Duration.ofSeconds(5)).until(ExpectedConditions.alertIsPresent());
        assertThat(question.getText()).contains("cannot be undone");
        question.dismiss();
        assertThat(row(id).getDomAttribute("data-status")).isEqualTo("active");

        row(id).findElement(By.cssSelector("button.revoke")).click();
        new WebDriverWait(driver, Duration.ofSeconds(5)).until(ExpectedConditions.alertIsPresent()).accept();

        waitFor(Duration.ofSeconds(10), d -> "revoked".equals(row(id).getDomAttribute("data-status")));
        assertThat(row(id).findElements(By.cssSelector("button.revoke, button.rotate"))).isEmpty();
        Api.Response refused = api.withKey(secret).submit("{\"prompt\": \"revoked\", \"size\": \"256*256\"}");
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.reason()).isEqualTo("INVALID_API_KEY");
    }

    @Test
    void theChartShowsTheImagesAKeyReallyMade() throws Exception {
        String name = "charted-" + UUID.randomUUID().toString().substring(0, 8);
        String secret = createOverHttp(name).get("secret").asText();
        String id = keyIdOf(secret);
        List<String> tasks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            tasks.add(api.withKey(secret).submitOk("{\"prompt\": \"chart " + i + "\", \"size\": \"256*256\"}"));
        }
        for (String task : tasks) {
            assertThat(api.withKey(secret).awaitFinished(task, Duration.ofSeconds(60)).at("/task/status").asText())
                    .isEqualTo("TASK_STATUS_SUCCEED");
        }

        signInAsAdmin();

        // the key's bars add up to its three images, each with an exact hover title
        List<WebElement> segments = waitFor(Duration.ofSeconds(10), d -> {
            List<WebElement> s = d.findElements(By.cssSelector("#usage-chart rect.segment[data-key='" + id + "']"));
            return s.isEmpty() ? null : s;
        });
        assertThat(segments.stream().mapToInt(s -> Integer.parseInt(s.getDomAttribute("data-images"))).sum()).isEqualTo(3);
        assertThat(segments).allSatisfy(s -> assertThat(title(s)).startsWith(name + ": ").contains(" image").contains("(UTC)"));
        assertThat(driver.findElements(By.cssSelector("#usage-chart rect.segment")).size()).isLessThanOrEqualTo(30 * 8);
        assertThat(driver.findElements(By.cssSelector("#usage-chart g.day"))).hasSize(30);
        assertThat(driver.findElement(By.cssSelector("#usage-legend li[data-key='" + id + "']")).getText())
                .contains(name).contains("3 images");

        // and the totals table says the same
        WebElement totals = driver.findElement(By.cssSelector("#usage-totals tbody tr[data-key='" + id + "']"));
        List<String> cells = totals.findElements(By.cssSelector("th, td")).stream().map(WebElement::getText).toList();
        assertThat(cells.subList(0, 6)).containsExactly(name, "3", "0.2", "3", "3", "0");
        assertThat(driver.findElement(By.cssSelector("#usage-totals tfoot")).getText()).startsWith("All keys");
        assertThat(noErrorsButRefusedCalls()).isEmpty();

        Files.write(SCREENSHOT, driver.getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void anAdminApiErrorShowsTheServersMessageInTheForm() {
        signInAsAdmin();
        String message = admin.post("/admin/v1/keys", "{\"name\": \"bad\", \"limits\": {\"max_queued\": -1}}")
                .json().get("message").asText();

        driver.findElement(By.id("new-key")).click();
        driver.findElement(By.id("key-name")).sendKeys("bad");
        driver.findElement(By.id("limit-max_queued")).sendKeys("-1");
        driver.findElement(By.id("key-form-submit")).click();

        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("key-form-error")).isDisplayed());
        assertThat(text("#key-form-error .error-message")).isEqualTo(message);
        assertThat(text("#key-form-error .error-detail")).contains("HTTP 400").contains("max_queued");
        assertThat(driver.findElement(By.id("secret")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("key-dialog")).isDisplayed()).isTrue();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static void signIn(String token) {
        WebElement input = driver.findElement(By.id("admin-token"));
        input.clear();
        input.sendKeys(token);
        driver.findElement(By.id("use-token")).click();
    }

    private static void signInAsAdmin() {
        signIn(ADMIN_TOKEN);
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("app")).isDisplayed()
                && !d.findElements(By.cssSelector("#keys tr")).isEmpty());
    }

    /** Creates a key through the page's form; the key as the admin API then lists it. */
    private static JsonNode createInPage(String name, Map<String, String> limits, String labels) {
        driver.findElement(By.id("new-key")).click();
        driver.findElement(By.id("key-name")).sendKeys(name);
        driver.findElement(By.id("key-labels")).sendKeys(labels);
        limits.forEach((field, value) -> driver.findElement(By.id("limit-" + field)).sendKeys(value));
        driver.findElement(By.id("key-form-submit")).click();
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("secret")).isDisplayed());
        for (JsonNode key : admin.get("/admin/v1/keys").json().get("keys")) {
            if (key.get("name").asText().equals(name)) {
                waitFor(Duration.ofSeconds(10), d -> row(key.get("id").asText()));
                return key;
            }
        }
        throw new AssertionError("the admin API does not list a key named " + name);
    }

    private static JsonNode createOverHttp(String name) {
        return createOverHttp(name, Map.of());
    }

    private static JsonNode createOverHttp(String name, Map<String, Object> limits) {
        try {
            return admin.create(JSON.writeValueAsString(Map.of("name", name, "limits", limits))).json();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String keyIdOf(String secret) {
        for (JsonNode key : admin.get("/admin/v1/keys").json().get("keys")) {
            if (secret.startsWith(key.get("prefix").asText()) && !key.get("bootstrap").asBoolean()) {
                return key.get("id").asText();
            }
        }
        throw new AssertionError("no managed key has the prefix of " + secret.substring(0, 8));
    }

    /** Refresh, as a person would after a change made elsewhere, until the key's row is there. */
    private static void refreshUntilListed(String keyId) {
        driver.findElement(By.id("refresh-keys")).click();
        waitFor(Duration.ofSeconds(10), d -> !d.findElements(By.cssSelector("#keys tr[data-key-id='" + keyId + "']")).isEmpty());
    }

    private static WebElement row(String keyId) {
        return driver.findElement(By.cssSelector("#keys tr[data-key-id='" + keyId + "']"));
    }

    private static String title(WebElement svgElement) {
        return (String) js("return arguments[0].querySelector('title').textContent;", svgElement);
    }

    private static String clipboard() {
        return (String) driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                navigator.clipboard.readText().then(done, e => done('clipboard refused: ' + e));
                """);
    }

    /** The console's errors, less the failed loads of refused admin calls the test made on purpose. */
    private static List<String> noErrorsButRefusedCalls() {
        return chromium.consoleEntries().stream()
                .filter(e -> e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue())
                .map(LogEntry::toString)
                .filter(m -> !m.matches(".*/admin/v1/\\S* - Failed to load resource: the server responded with a status of 4\\d\\d.*"))
                .toList();
    }

    private static void replaceText(String id, String value) {
        WebElement input = driver.findElement(By.id(id));
        input.clear();
        input.sendKeys(value);
    }

    private static String text(String selector) {
        return driver.findElement(By.cssSelector(selector)).getText();
    }

    private static Object js(String script, Object... args) {
        return driver.executeScript(script, args);
    }

    private static <T> T waitFor(Duration timeout, Function<WebDriver, T> condition) {
        // the page redraws the key list after each change: an element found just before is stale, look again
        return new WebDriverWait(driver, timeout, Duration.ofMillis(50)).ignoring(StaleElementReferenceException.class)
                .until(condition::apply);
    }
}
