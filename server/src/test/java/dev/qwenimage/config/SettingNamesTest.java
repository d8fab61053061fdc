package dev.qwenimage.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A misspelt QWEN_IMAGE_* variable is pointed out with the name that was probably meant. */
class SettingNamesTest {

    @Test
    void theNearestKnownNameOfATypoIsOffered() {
        assertThat(SettingNames.nearest("QWEN_IMAGE_WROKERS")).hasValue("QWEN_IMAGE_WORKERS");
        assertThat(SettingNames.nearest("QWEN_IMAGE_PROT")).hasValue("QWEN_IMAGE_PORT");
        assertThat(SettingNames.nearest("QWEN_IMAGE_RETENTON")).hasValue("QWEN_IMAGE_RETENTION");
        assertThat(SettingNames.nearest("QWEN_IMAGE_S3_BUKET")).hasValue("QWEN_IMAGE_S3_BUCKET");
        assertThat(SettingNames.nearest("QWEN_IMAGE_JAVAOPTS")).hasValue("QWEN_IMAGE_JAVA_OPTS");
    }

    @Test
    void aNameFarFromEveryKnownOneGetsNoGuess() {
        assertThat(SettingNames.nearest("QWEN_IMAGE_FAVOURITE_COLOUR")).isEmpty();
    }

    @Test
    void everyUnknownQwenImageVariableIsWarnedAboutAndNothingElse() {
        Map<String, String> env = Map.of(
                "QWEN_IMAGE_WROKERS", "3",
                "QWEN_IMAGE_FAVOURITE_COLOUR", "blue",
                "QWEN_IMAGE_PORT", "9000",
                "QWEN_IMAGE_JAVA_OPTS", "-Xmx2g",
                "QWEN_IMAGE_URL", "http://localhost:9000",
                "QWEN_IMAGE_API_KEY", "k",
                "PATH", "/usr/bin",
                "QWEN_IMAGES", "not ours");

        List<String> warnings = SettingNames.unknownVariables(env);

        assertThat(warnings).containsExactly(
                "QWEN_IMAGE_FAVOURITE_COLOUR is not a setting of qwen-image and is ignored (./qwen-image serve --help lists them)",
                "QWEN_IMAGE_WROKERS is not a setting of qwen-image and is ignored; did you mean QWEN_IMAGE_WORKERS?");
    }

    @Test
    void theReadmeDocumentsTheNamesTheLauncherAndTheCommandLineRead() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
        for (String name : SettingNames.OTHERS.keySet()) {
            assertThat(readme).as("a configuration table row for " + name).contains("| `" + name + "` |");
        }
        String cli = readme.substring(readme.indexOf("- **CLI**"), readme.indexOf("- **Java SDK**"));
        assertThat(cli).contains("`QWEN_IMAGE_URL`").contains("`QWEN_IMAGE_API_KEY`").contains("`QWEN_IMAGE_PORT`");
    }

    @Test
    void everySettingIsAKnownName() {
        for (Setting s : Setting.ALL) {
            assertThat(SettingNames.unknownVariables(Map.of(s.env(), "x"))).as(s.env()).isEmpty();
        }
    }
}
