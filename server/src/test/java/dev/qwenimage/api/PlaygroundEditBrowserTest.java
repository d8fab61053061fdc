package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.HeadlessChromium;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The playground's Edit mode end to end in a real headless Chromium against a real server whose
 * preview engine edits (it mirrors and tints the input) and takes its time per step. A real file
 * goes through the file input, as a person would choose it; what is asserted is what they would
 * see: the input's preview, the progress, the before and the after side by side at the sizes the
 * server made, the edit in the gallery, and the server's own message next to the input when it
 * refuses the picture.
 */
class PlaygroundEditBrowserTest {
    /** The page after an edit, for anyone to look at. */
    static final Path SCREENSHOT = Path.of("target", "playground-edit-screenshot.png");

    @TempDir
    static Path dataDir;
    @TempDir
    static Path profileDir;
    @TempDir
    Path files;
    static HeadlessChromium chromium;
    static ChromeDriver driver;
    static TestServer server;
    static Api api;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(Path.of("target"));
        chromium = HeadlessChromium.startOrSkip(profileDir, Path.of("target", "chromedriver-edit.log"), 1280, 1500);
        driver = chromium.driver();
        // 20 steps of 150 ms: about 3 s per edit, several progress polls along the way
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
        driver.findElement(By.id("api-key")).sendKeys(TestServer.KEY);
        chromium.consoleEntries(); // start each test with an empty console log
    }

    @Test
    void theModeSwitchShowsOneFormAtATimeAndKeepsWhatTheOtherHolds() {
        assertThat(driver.findElement(By.id("generate-form")).isDisplayed()).isTrue();
        assertThat(driver.findElement(By.id("edit-form")).isDisplayed()).isFalse();
        driver.findElement(By.id("prompt")).sendKeys("a lighthouse at dusk");

        modeLabel("edit").click();

        assertThat(driver.findElement(By.id("generate-form")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("edit-form")).isDisplayed()).isTrue();
        assertThat(driver.findElement(By.cssSelector("label[for='edit-prompt']")).getText()).isEqualTo("What to change");
        assertThat(driver.findElement(By.cssSelector("label[for='edit-file']")).getDomProperty("textContent")).isEqualTo("Picture file");
        assertThat(driver.findElement(By.cssSelector("label[for='edit-url']")).getText()).contains("URL");

        // the mode is remembered, and the Generate form still holds its prompt
        driver.navigate().refresh();
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("edit-form")).isDisplayed());
        modeLabel("generate").click();
        assertThat(driver.findElement(By.id("generate-form")).isDisplayed()).isTrue();
        assertThat(driver.findElement(By.id("edit-form")).isDisplayed()).isFalse();
    }

    @Test
    void editsAnUploadedPngAndShowsBeforeAndAfterAtTheInputsAspectAndKeepsItInTheGallery() throws Exception {
        // given a 1600x900 PNG on disk, chosen through the file input in Edit mode
        byte[] png = Pictures.png(1600, 900);
        Path file = Files.write(files.resolve("harbour.png"), png);
        String prompt = "make the sky purple";
        modeLabel("edit").click();
        driver.findElement(By.id("edit-file")).sendKeys(file.toString());

        // then it is previewed, with the size the edit will come back at (its aspect at about 1 MP)
        waitFor(Duration.ofSeconds(10), d -> imageLoaded("#edit-preview"));
        assertThat(naturalSize("#edit-preview")).containsExactly(1600L, 900L);
        assertThat(text("edit-image-info")).contains("harbour.png").contains("1600 × 900").contains("edited at 1360 × 768");

        // when a prompt is written, PNG chosen and the form submitted
        driver.findElement(By.id("edit-prompt")).sendKeys(prompt);
        new Select(driver.findElement(By.id("edit-format"))).selectByValue("png");
        recordProgress();
        recordSubmissions();
        driver.findElement(By.id("edit-submit")).click();

        // then the file went in the JSON body as a data: URI, byte for byte
        waitFor(Duration.ofSeconds(60), d -> imageLoaded("#edit-after"));
        List<Map<String, Object>> sent = submissions();
        assertThat(sent).hasSize(1);
        assertThat(sent.getFirst()).containsOnlyKeys("prompt", "image", "output_format", "watermark")
                .containsEntry("prompt", prompt).containsEntry("output_format", "png").containsEntry("watermark", false)
                .containsEntry("image", "data:image/png;base64," + Pictures.base64(png));

        // and the progress was shown as for a picture, and the before and after are side by side
        assertThat(seenProgress()).anySatisfy(t -> assertThat(t).containsPattern("\\d+% \\| Editing: \\d+%"));
        assertThat(driver.findElement(By.id("progress-block")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("result-figure")).isDisplayed()).isFalse();
        assertThat(imageLoaded("#edit-before")).isTrue();
        assertThat(naturalSize("#edit-before")).containsExactly(1600L, 900L);
        assertThat(naturalSize("#edit-after")).containsExactly(1360L, 768L);
        WebElement before = driver.findElement(By.id("edit-before"));
        WebElement after = driver.findElement(By.id("edit-after"));
        assertThat(before.getRect().getY()).as("side by side").isEqualTo(after.getRect().getY());
        assertThat(before.getRect().getX()).isLessThan(after.getRect().getX());
        assertThat(before.getDomAttribute("alt")).startsWith("Before");
        assertThat(after.getDomAttribute("alt")).isEqualTo("After: " + prompt);
        assertThat(text("edit-result-prompt")).isEqualTo(prompt);
        assertThat(text("edit-result-meta")).startsWith("Edit · 1360 × 768 · PNG · seed ");
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("edit-image-error")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("edit-submit")).isEnabled()).isTrue();

        // and the download link is the result itself; the server made an edit of it
        String taskId = driver.findElement(By.id("edit-figure")).getDomAttribute("data-task-id");
        JsonNode result = api.result(taskId).json();
        assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
        WebElement download = driver.findElement(By.id("edit-download"));
        assertThat(download.getDomAttribute("href")).isEqualTo(after.getDomAttribute("src"))
                .startsWith(result.at("/images/0/image_url").asText().replaceAll("\\?.*", "") + "?");
        assertThat(download.getDomAttribute("download")).isEqualTo("qwen-image-edit-" + taskId.substring(0, 8) + ".png");
        assertThat(download.getAccessibleName()).isEqualTo("Download");
        assertThat(severeConsoleEntries()).isEmpty();
        Files.write(SCREENSHOT, driver.getScreenshotAs(OutputType.BYTES));

        // and it is in the gallery, marked as an edit, with a small copy of its input
        WebElement card = waitForEditCard(prompt);
        assertThat(card.findElement(By.cssSelector(".card-kind")).getText()).isEqualToIgnoringCase("Edit");
        assertThat(card.findElement(By.cssSelector(".card-meta")).getText()).startsWith("Edit · 1360 × 768 · ");
        assertThat(card.findElement(By.cssSelector(".thumb")).getAccessibleName()).isEqualTo("Show this edit: " + prompt);
        assertThat(naturalSize(card.findElement(By.cssSelector(".card-before")))).containsExactly(256L, 144L);

        // and after a reload it comes back with a fresh link, and shows its before and after again
        driver.navigate().refresh();
        WebElement again = waitForEditCard(prompt);
        assertThat(naturalSize(again.findElement(By.cssSelector(".thumb img:not(.card-before)")))).containsExactly(1360L, 768L);
        String stored = (String) js("return localStorage.getItem('qwen-image-playground.gallery.v1');");
        assertThat(stored).contains("\"kind\":\"edit\"").contains("\"size\":\"1360*768\"").contains("\"input\":\"data:image/jpeg;base64,")
                .as("the input itself is not kept").hasSizeLessThan(40_000);
        again.findElement(By.cssSelector(".thumb")).click();
        waitFor(Duration.ofSeconds(10), d -> imageLoaded("#edit-after") && imageLoaded("#edit-before"));
        assertThat(naturalSize("#edit-after")).containsExactly(1360L, 768L);
        assertThat(text("edit-before-note")).contains("small copy");
        assertThat(severeConsoleEntries()).isEmpty();
    }

    @Test
    void aTextFileNamedPngIsRefusedWithTheServersInvalidImageMessageNextToTheInput() throws Exception {
        byte[] notAPicture = "these are notes, not a picture\n".getBytes(StandardCharsets.UTF_8);
        Path file = Files.write(files.resolve("notes.png"), notAPicture);
        String serverMessage = api.edit("{\"prompt\": \"add a hat\", \"image\": \"data:image/png;base64,%s\"}"
                .formatted(Pictures.base64(notAPicture))).json().get("message").asText();
        modeLabel("edit").click();

        // given the browser cannot show it, it still leaves the verdict to the server
        driver.findElement(By.id("edit-file")).sendKeys(file.toString());
        waitFor(Duration.ofSeconds(10), d -> text("edit-image-info").contains("cannot show it"));
        driver.findElement(By.id("edit-prompt")).sendKeys("add a hat");
        driver.findElement(By.id("edit-submit")).click();

        // then the server's own message shows next to the input, with its reason
        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("edit-image-error")).isDisplayed());
        assertThat(text("edit-image-error-message")).isEqualTo(serverMessage);
        assertThat(text("edit-image-error-detail")).isEqualTo("INVALID_IMAGE · HTTP 400");
        assertThat(driver.findElement(By.id("edit-file")).getDomAttribute("aria-invalid")).isEqualTo("true");
        assertThat(driver.findElement(By.id("edit-file")).getDomAttribute("aria-describedby")).contains("edit-image-error");
        assertThat(driver.findElement(By.id("error")).isDisplayed()).as("not in the result panel").isFalse();
        assertThat(driver.findElements(By.cssSelector("#gallery .card"))).isEmpty();
        assertThat(driver.findElement(By.id("edit-submit")).isEnabled()).isTrue();

        // and choosing a real picture clears it
        driver.findElement(By.id("edit-file")).sendKeys(Files.write(files.resolve("real.jpg"), Pictures.jpeg(300, 200)).toString());
        waitFor(Duration.ofSeconds(10), d -> imageLoaded("#edit-preview"));
        assertThat(driver.findElement(By.id("edit-image-error")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("edit-file")).getDomAttribute("aria-invalid")).isNull();
    }

    @Test
    void aFileOverTwentyMegabytesIsRefusedInThePageAndNothingIsSent() throws Exception {
        byte[] big = new byte[21_500_000];
        System.arraycopy(Pictures.png(16, 16), 0, big, 0, 8); // a PNG's signature, then nothing worth reading
        Path file = Files.write(files.resolve("huge.png"), big);
        modeLabel("edit").click();
        recordSubmissions();

        driver.findElement(By.id("edit-file")).sendKeys(file.toString());

        waitFor(Duration.ofSeconds(10), d -> d.findElement(By.id("edit-image-error")).isDisplayed());
        assertThat(text("edit-image-error-message")).isEqualTo(
                "“huge.png” is 21.5 MB; an edit takes a picture of at most 20 MB. Choose a smaller file, or give the picture's URL.");
        assertThat(driver.findElement(By.id("edit-preview")).isDisplayed()).isFalse();

        // and submitting anyway sends nothing: the refusal stays
        driver.findElement(By.id("edit-prompt")).sendKeys("add a hat");
        driver.findElement(By.id("edit-submit")).click();
        assertThat(text("edit-image-error-message")).startsWith("“huge.png” is 21.5 MB");
        assertThat(submissions()).isEmpty();
        assertThat(driver.findElements(By.cssSelector("#gallery .card"))).isEmpty();
    }

    @Test
    void aPastedUrlIsSentForTheServerToFetchAndItsRefusalShowsNextToTheInput() {
        // given a picture this server itself serves: the browser can show it, but the server does not
        // fetch from loopback addresses (the same guard as webhooks)
        String made = api.submitOk("{\"prompt\": \"a kite\", \"size\": \"512*256\"}");
        String url = api.awaitFinished(made, Duration.ofSeconds(60)).at("/images/0/image_url").asText();
        String serverMessage = api.edit("{\"prompt\": \"add a hat\", \"image\": \"%s\"}".formatted(url)).json().get("message").asText();
        modeLabel("edit").click();
        recordSubmissions();

        driver.findElement(By.id("edit-url")).sendKeys(url);
        waitFor(Duration.ofSeconds(10), d -> imageLoaded("#edit-preview"));
        assertThat(text("edit-image-info")).contains("512 × 256").contains("edited at 1456 × 720");
        driver.findElement(By.id("edit-prompt")).sendKeys("add a hat");
        driver.findElement(By.id("edit-submit")).click();

        waitFor(Duration.ofSeconds(20), d -> d.findElement(By.id("edit-image-error")).isDisplayed());
        assertThat(submissions()).singleElement().satisfies(b -> assertThat(b).containsEntry("image", url));
        assertThat(text("edit-image-error-message")).isEqualTo(serverMessage);
        assertThat(text("edit-image-error-detail")).isEqualTo("IMAGE_FETCH_FAILED · HTTP 400");
        assertThat(driver.findElement(By.id("edit-url")).getDomAttribute("aria-invalid")).isEqualTo("true");
    }

    @Test
    void aPictureMustBeChosenBeforeAnEditIsSent() {
        modeLabel("edit").click();
        recordSubmissions();
        driver.findElement(By.id("edit-prompt")).sendKeys("add a hat");

        driver.findElement(By.id("edit-submit")).click();

        waitFor(Duration.ofSeconds(5), d -> d.findElement(By.id("edit-image-error")).isDisplayed());
        assertThat(text("edit-image-error-message")).startsWith("Choose the picture to edit first");
        assertThat(submissions()).isEmpty();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static WebElement waitForEditCard(String prompt) {
        return waitFor(Duration.ofSeconds(30), d -> d.findElements(By.cssSelector("#gallery .card[data-kind='edit'][data-state='done']"))
                .stream()
                .filter(c -> c.findElement(By.cssSelector(".card-prompt")).getText().equals(prompt))
                .filter(c -> imageLoaded(c.findElement(By.cssSelector(".thumb img:not(.card-before)"))))
                .findFirst().orElse(null));
    }

    private static WebElement modeLabel(String mode) {
        return driver.findElement(By.xpath("//input[@id='mode-" + mode + "']/parent::label"));
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

    /** Notes the JSON body of every edit the page sends, from the moment it is called. */
    private static void recordSubmissions() {
        js("""
                window.submissions = [];
                const send = window.fetch;
                window.fetch = (url, init) => {
                    if (String(url).endsWith('/v3/async/qwen-image-edit')) window.submissions.push(JSON.parse(init.body));
                    return send(url, init);
                };
                """);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> submissions() {
        return (List<Map<String, Object>>) js("return window.submissions;");
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

    private static List<Long> naturalSize(String selector) {
        return naturalSize(driver.findElement(By.cssSelector(selector)));
    }

    @SuppressWarnings("unchecked")
    private static List<Long> naturalSize(WebElement img) {
        return (List<Long>) js("return [arguments[0].naturalWidth, arguments[0].naturalHeight];", img);
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
