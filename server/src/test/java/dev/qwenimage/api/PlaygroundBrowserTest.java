package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.HeadlessChromium;
import dev.qwenimage.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The playground end to end in a real headless Chromium against a real server whose preview
 * engine takes its time per step, so progress can be watched. What is asserted is what a person
 * would see: the progress bar moving, the picture at the size that was sent, the gallery surviving
 * a reload, the server's own error message.
 */
class PlaygroundBrowserTest {
    /** Where the lead (and anyone) can look at the page as the test left it. */
    static final Path SCREENSHOT = Path.of("target", "playground-screenshot.png");
    private static final Pattern PERCENT = Pattern.compile("(\\d+)%");

    @TempDir
    static Path dataDir;
    @TempDir
    static Path profileDir;
    static HeadlessChromium chromium;
    static ChromeDriver driver;
    static TestServer server;
    static Api api;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(Path.of("target"));
        chromium = HeadlessChromium.startOrSkip(profileDir, Path.of("target", "chromedriver.log"), 1280, 1500);
        driver = chromium.driver();
        // 20 steps of 150 ms: about 3 s per picture, several progress polls along the way
        server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "150ms"));
        api = server.api();
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
        driver.get(api.baseUrl() + "/");
        js("localStorage.clear();");
        driver.navigate().refresh();
        waitFor(Duration.ofSeconds(10), d -> d.findElements(By.cssSelector("#size-presets input")).size() == 8);
        chromium.consoleEntries(); // start each test with an empty console log
    }

    @Test
    void seleniumUsesTheInstalledChromiumAndChromedriverAndDownloadsNothing() {
        assertThat(chromium.seleniumManagerSkipped()).as("Selenium log: %s", chromium.seleniumLog()).isTrue();
        assertThat(driver.getCapabilities().getBrowserVersion()).isNotBlank();
        assertThat((String) js("return navigator.userAgent;")).contains("HeadlessChrome");
    }

    @Test
    void generatesAPictureWithLiveProgressAndKeepsItInTheGalleryAcrossAReload() throws Exception {
        String prompt = "A red fox reading a book under a ginkgo tree, soft morning light";

        // given the key, a prompt and the 16:9 preset, which is scaled to fit the API's 1536 limit
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        driver.findElement(By.id("prompt")).sendKeys(prompt);
        presetLabel("16x9").click();
        assertThat(text("size-note")).contains("Sends 1536 × 856").contains("1664 × 928");
        recordProgress();
        recordSubmissions();

        // when it is submitted
        driver.findElement(By.id("submit")).click();

        // then the progress bar moves, and the picture arrives at exactly the size that was sent
        waitFor(Duration.ofSeconds(60), d -> imageLoaded("#result-image"));
        assertThat(naturalSize("#result-image")).containsExactly(1536L, 856L);
        assertThat(submissions()).containsExactly(Map.of("prompt", prompt, "size", "1536*856", "watermark", false));
        List<String> seen = seenProgress();
        assertThat(seen).as("progress shown while the task ran").anySatisfy(t -> {
            Matcher m = PERCENT.matcher(t);
            assertThat(m.find()).isTrue();
            assertThat(Integer.parseInt(m.group(1))).isBetween(1, 99);
        });
        assertThat(seen).anySatisfy(t -> assertThat(t).contains("Generating"));
        assertThat(seen).as("the server's ETA shown beside the percentage")
                .anySatisfy(t -> assertThat(t).containsPattern("Generating: \\d+% · about \\d+ s left"));
        assertThat(driver.findElement(By.id("progress-block")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
        assertThat(text("result-prompt")).isEqualTo(prompt);
        assertThat(text("result-meta")).contains("1536 × 856");
        assertThat(driver.findElement(By.id("submit")).isEnabled()).isTrue();

        // and it is in the gallery, with its thumbnail
        WebElement card = waitForCard(prompt);
        assertThat(card.findElement(By.cssSelector(".card-meta")).getText()).contains("1536 × 856");
        assertThat(severeConsoleEntries()).isEmpty();

        Files.write(SCREENSHOT, driver.getScreenshotAs(OutputType.BYTES));

        // and after a reload the key is remembered and the gallery item comes back with a fresh link
        driver.navigate().refresh();
        assertThat(driver.findElement(By.id("api-key")).getDomProperty("value")).isEqualTo(TestServer.KEY);
        WebElement again = waitForCard(prompt);
        assertThat(again.findElement(By.cssSelector(".card-prompt")).getText()).isEqualTo(prompt);
        assertThat(naturalSize("#gallery .card img")).containsExactly(1536L, 856L);
        String stored = (String) js("return localStorage.getItem('qwen-image-playground.gallery.v1');");
        assertThat(stored).contains("\"size\":\"1536*856\"").contains("\"prompt\":\"" + prompt + "\"");

        // and a click on it shows it again in the result panel
        again.findElement(By.cssSelector(".thumb")).click();
        waitFor(Duration.ofSeconds(10), d -> imageLoaded("#result-image"));
        assertThat(text("result-prompt")).isEqualTo(prompt);
        assertThat(severeConsoleEntries()).isEmpty();
    }

    @Test
    void aQueuedTaskSaysItIsWaitingWithItsEtaAndShowsNoPercentage() {
        // given every worker slot busy, so that the page's task has to wait its turn
        int slots = server.server().workers().orElseThrow().slots();
        for (int i = 0; i < slots; i++) {
            api.submitOk("{\"prompt\": \"keeping a slot busy\", \"size\": \"256*256\"}");
        }
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        driver.findElement(By.id("prompt")).sendKeys("waiting my turn");
        presetLabel("1x1").click();
        recordProgress();

        driver.findElement(By.id("submit")).click();

        waitFor(Duration.ofSeconds(60), d -> imageLoaded("#result-image"));
        List<String> seen = seenProgress();
        assertThat(seen).as("the queue and its ETA, without a percentage")
                .anySatisfy(t -> assertThat(t).matches(" \\| Waiting in the queue · about \\d+ s left"));
        assertThat(seen).noneMatch(t -> t.contains("Waiting in the queue:") || t.contains("queue") && t.contains("%"));
        assertThat(seen).anySatisfy(t -> assertThat(t).containsPattern("\\d+% \\| Generating: \\d+%"));
    }

    @Test
    void thePromptCounterCountsInWords() {
        WebElement prompt = driver.findElement(By.id("prompt"));
        assertThat(text("prompt-help")).startsWith("0 characters · ");
        prompt.sendKeys("a");
        assertThat(text("prompt-help")).startsWith("1 character · ");
        prompt.sendKeys("灯");
        assertThat(text("prompt-help")).startsWith("2 characters · ");
    }

    @Test
    void moreOptionsSendTheSeedNegativePromptAndFormat() {
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        driver.findElement(By.id("prompt")).sendKeys("a paper boat on a puddle");
        presetLabel("custom").click();
        replaceText("custom-width", "512");
        replaceText("custom-height", "384");
        driver.findElement(By.cssSelector("#more-options summary")).click();
        driver.findElement(By.id("negative-prompt")).sendKeys("blurry");
        driver.findElement(By.id("seed")).sendKeys("1234");
        new Select(driver.findElement(By.id("image-type"))).selectByValue("png");
        driver.findElement(By.id("watermark")).click();
        recordSubmissions();

        driver.findElement(By.id("submit")).click();

        waitFor(Duration.ofSeconds(60), d -> imageLoaded("#result-image"));
        assertThat(submissions()).containsExactly(Map.of("prompt", "a paper boat on a puddle", "size", "512*384", "watermark", true,
                "seed", 1234L, "negative_prompt", "blurry", "extra", Map.of("response_image_type", "png")));
        assertThat(naturalSize("#result-image")).containsExactly(512L, 384L);
        assertThat(text("result-meta")).isEqualTo("512 × 384 · PNG · seed 1234");
        String taskId = driver.findElement(By.id("result-figure")).getDomAttribute("data-task-id");
        var result = api.result(taskId).json();
        assertThat(result.at("/extra/seed").asLong()).isEqualTo(1234L);
        assertThat(result.at("/images/0/image_type").asText()).isEqualTo("png");

        // "Use this seed again" puts a random run's seed back in the form
        replaceText("seed", "");
        driver.findElement(By.id("reuse-seed")).click();
        assertThat(driver.findElement(By.id("seed")).getDomProperty("value")).isEqualTo("1234");
    }

    @Test
    void cancelStopsTheRunningTask() {
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        driver.findElement(By.id("prompt")).sendKeys("a very long exposure of the night sky");
        driver.findElement(By.id("submit")).click();
        waitFor(Duration.ofSeconds(30), d -> PERCENT.matcher(text("progress-percent")).results()
                .anyMatch(m -> Integer.parseInt(m.group(1)) >= 1));

        driver.findElement(By.id("cancel")).click();

        waitFor(Duration.ofSeconds(30), d -> d.findElement(By.id("notice")).isDisplayed());
        assertThat(text("notice")).startsWith("Cancelled");
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("progress-block")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("submit")).isEnabled()).isTrue();
        String taskId = driver.findElement(By.cssSelector("#gallery .card")).getDomAttribute("data-task-id");
        var task = api.result(taskId).json().get("task");
        assertThat(task.get("status").asText()).isEqualTo("TASK_STATUS_FAILED");
        assertThat(task.get("reason").asText()).isEqualTo("cancelled");
        waitFor(Duration.ofSeconds(10), d -> text("gallery").contains("Cancelled"));
    }

    @Test
    void anInvalidKeyShowsTheServersOwnMessage() {
        String serverMessage = api.withKey("not-a-valid-key").submit("{\"prompt\": \"x\"}").json().get("message").asText();

        driver.findElement(By.id("api-key")).sendKeys("not-a-valid-key");
        driver.findElement(By.id("prompt")).sendKeys("a lighthouse in a storm");
        driver.findElement(By.id("submit")).click();

        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("error")).isDisplayed());
        assertThat(text("error-message")).isEqualTo(serverMessage);
        assertThat(text("error-detail")).contains("INVALID_API_KEY").contains("401").contains("banner");
        assertThat(driver.findElements(By.cssSelector("#gallery .card"))).isEmpty();
        assertThat(driver.findElement(By.id("submit")).isEnabled()).isTrue();
    }

    @Test
    void anEmptyPromptIsCaughtBeforeAnythingIsSent() {
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        driver.findElement(By.id("submit")).click();

        waitFor(Duration.ofSeconds(5), d -> d.findElement(By.id("error")).isDisplayed());
        assertThat(text("error-message")).contains("prompt");
        assertThat(driver.findElements(By.cssSelector("#gallery .card"))).isEmpty();
    }

    @Test
    void presetsShowTheNativeSizesFittedToTheApiAndCustomSizesAreChecked() {
        List<String> presets = driver.findElements(By.cssSelector("#size-presets .preset")).stream()
                .map(e -> e.getText().replace('\n', ' ')).toList();
        assertThat(presets).containsExactly("1:1 1328 × 1328", "16:9 1536 × 856", "9:16 856 × 1536", "4:3 1472 × 1104",
                "3:4 1104 × 1472", "3:2 1536 × 1024", "2:3 1024 × 1536", "Custom W × H");

        presetLabel("1x1").click();
        assertThat(text("size-note")).isEqualTo("Sends 1328 × 1328, a native Qwen-Image size.");
        presetLabel("custom").click();
        WebElement width = driver.findElement(By.id("custom-width"));
        width.clear();
        width.sendKeys("2000");
        assertThat(text("size-note")).contains("between 256 and 1536");
        width.clear();
        width.sendKeys("640");
        assertThat(text("size-note")).isEqualTo("Sends 640 × 1024. Each side: 256 to 1536 pixels.");

        // the choice is remembered
        driver.navigate().refresh();
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("custom-size")).isDisplayed());
        assertThat(driver.findElement(By.id("custom-width")).getDomProperty("value")).isEqualTo("640");
    }

    @Test
    void theGalleryForgetsTasksTheServerNoLongerHasAndKeepsOtherKeysItems() {
        String mine = api.submitOk("{\"prompt\": \"kept\", \"size\": \"256*256\"}");
        api.awaitFinished(mine, Duration.ofSeconds(60));
        String theirs = api.withKey(TestServer.OTHER_KEY).submitOk("{\"prompt\": \"theirs\", \"size\": \"256*256\"}");
        String gone = UUID.randomUUID().toString();

        // given this browser remembers a real task, a task the server does not know, and another key's task
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        String myKeyId = keyIdInPage(TestServer.KEY);
        String otherKeyId = keyIdInPage(TestServer.OTHER_KEY);
        long now = System.currentTimeMillis();
        js("localStorage.setItem('qwen-image-playground.gallery.v1', JSON.stringify(arguments[0]));", List.of(
                Map.of("taskId", gone, "prompt", "gone", "size", "256*256", "createdAt", now, "keyId", myKeyId),
                Map.of("taskId", mine, "prompt", "kept", "size", "256*256", "createdAt", now - 1000, "keyId", myKeyId),
                Map.of("taskId", theirs, "prompt", "theirs", "size", "256*256", "createdAt", now - 2000, "keyId", otherKeyId)));

        // when the page is loaded again
        driver.navigate().refresh();

        // then the gone task is dropped, the real one shows, the other key's one is hidden but kept
        waitForCard("kept");
        waitFor(Duration.ofSeconds(10), d -> d.findElements(By.cssSelector("#gallery .card")).size() == 1);
        String stored = (String) js("return localStorage.getItem('qwen-image-playground.gallery.v1');");
        assertThat(stored).doesNotContain(gone).contains(mine).contains(theirs);
        assertThat(text("gallery-note")).contains("1 made with another API key is not shown");
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static WebElement presetLabel(String id) {
        return driver.findElement(By.xpath("//input[@id='size-" + id + "']/parent::label"));
    }

    private static WebElement waitForCard(String prompt) {
        return waitFor(Duration.ofSeconds(30), d -> d.findElements(By.cssSelector("#gallery .card[data-state='done']")).stream()
                .filter(c -> c.findElement(By.cssSelector(".card-prompt")).getText().equals(prompt))
                .filter(c -> imageLoaded(c.findElement(By.cssSelector("img"))))
                .findFirst().orElse(null));
    }

    /** Notes every text the progress display shows, from the moment it is called. */
    private static void recordProgress() {
        js("""
                window.seenProgress = [];
                const note = () => window.seenProgress.push(
                    document.getElementById('progress-percent').textContent + ' | ' + document.getElementById('progress-label').textContent);
                new MutationObserver(note).observe(document.getElementById('progress-block'),
                    {subtree: true, childList: true, characterData: true, attributes: true});
                """);
    }

    /** Notes the JSON body of every submission the page sends, from the moment it is called. */
    private static void recordSubmissions() {
        js("""
                window.submissions = [];
                const send = window.fetch;
                window.fetch = (url, init) => {
                    if (String(url).endsWith('/v3/async/qwen-image-txt2img')) window.submissions.push(JSON.parse(init.body));
                    return send(url, init);
                };
                """);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> submissions() {
        return (List<Map<String, Object>>) js("return window.submissions;");
    }

    private static void replaceText(String id, String value) {
        WebElement input = driver.findElement(By.id(id));
        input.clear();
        input.sendKeys(value);
    }

    @SuppressWarnings("unchecked")
    private static List<String> seenProgress() {
        return (List<String>) js("return window.seenProgress;");
    }

    private static boolean imageLoaded(String selector) {
        return imageLoaded(driver.findElement(By.cssSelector(selector)));
    }

    private static boolean imageLoaded(WebElement img) {
        return img.isDisplayed() && Boolean.TRUE.equals(js("return arguments[0].complete && arguments[0].naturalWidth > 0;", img));
    }

    @SuppressWarnings("unchecked")
    private static List<Long> naturalSize(String selector) {
        return (List<Long>) js("return [arguments[0].naturalWidth, arguments[0].naturalHeight];",
                driver.findElement(By.cssSelector(selector)));
    }

    private static String keyIdInPage(String key) {
        return (String) ((JavascriptExecutor) driver).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const app = document.querySelector('script[type=module]').src;
                import(app.replace(/app\\.js$/, 'gallery.js')).then(m => done(m.keyId(arguments[0])));
                """, key);
    }

    private static List<String> severeConsoleEntries() {
        return chromium.consoleEntries().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::toString).toList();
    }

    private static String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    private static Object js(String script, Object... args) {
        return driver.executeScript(script, args);
    }

    private static <T> T waitFor(Duration timeout, Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(50)).until(condition::apply);
    }
}
