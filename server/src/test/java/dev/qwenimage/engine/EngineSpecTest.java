package dev.qwenimage.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.qwenimage.config.ConfigException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One configuration line lists every engine: kind, URL, slots and the engine's own options. */
class EngineSpecTest {
    private static final String SETTING = "QWEN_IMAGE_ENGINES";

    @Test
    void aBareKindIsOneEngineNamedAfterIt() {
        List<EngineSpec> specs = EngineSpec.parseAll(SETTING, "preview");
        assertThat(specs).singleElement().satisfies(s -> {
            assertThat(s.kind()).isEqualTo("preview");
            assertThat(s.name()).isEqualTo("preview");
            assertThat(s.url()).isEmpty();
            assertThat(s.slots()).isEmpty();
        });
    }

    @Test
    void entriesCarryUrlSlotsTimeoutAndOptions() {
        EngineSpec s = EngineSpec.parseAll(SETTING,
                "comfyui:http://gpu1:8188/?slots=2&timeout=5m&steps=8&lora=Qwen-Image-Lightning-8steps-V1.0.safetensors").getFirst();
        assertThat(s.url()).hasValue(URI.create("http://gpu1:8188"));
        assertThat(s.slots()).hasValue(2);
        assertThat(s.timeout()).hasValue(Duration.ofMinutes(5));
        assertThat(s.intOption("steps", 20, 1, 200)).isEqualTo(8);
        assertThat(s.option("lora")).hasValue("Qwen-Image-Lightning-8steps-V1.0.safetensors");
        assertThat(s.option("missing", "fallback")).isEqualTo("fallback");
    }

    @Test
    void manyEnginesAreSeparatedBySemicolonsOrNewLinesAndRepeatedKindsAreNumbered() {
        List<EngineSpec> specs = EngineSpec.parseAll(SETTING,
                "comfyui:http://gpu1:8188; comfyui:http://gpu2:8188\n  openai:http://gpu3:8091/v1?name=vllm ;\n");
        assertThat(specs).extracting(EngineSpec::name).containsExactly("comfyui-1", "comfyui-2", "vllm");
        assertThat(specs).extracting(EngineSpec::kind).containsExactly("comfyui", "comfyui", "openai");
        assertThat(specs.get(2).url()).hasValue(URI.create("http://gpu3:8091/v1"));
    }

    @Test
    void optionValuesArePercentDecoded() {
        EngineSpec s = EngineSpec.parseAll(SETTING, "openai:http://h:1/v1?model=Qwen%2FQwen-Image&negative_prompt=low%20quality").getFirst();
        assertThat(s.option("model")).hasValue("Qwen/Qwen-Image");
        assertThat(s.option("negative_prompt")).hasValue("low quality");
    }

    @Test
    void mistakesAreRefusedWithAMessageNamingTheEntry() {
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "dalle:http://x"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown engine kind 'dalle'");
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfyui"))
                .hasMessageContaining("needs its URL");
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfyui:gpu1:8188"))
                .hasMessageContaining("is not an http(s) URL");
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfyui:http://a:1?slots=0"))
                .hasMessageContaining("slots must be between 1 and 256");
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfyui:http://a:1?name=x;sdcpp:http://b:2?name=x"))
                .hasMessageContaining("two engines are named 'x'");
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, " ; "))
                .hasMessageContaining("names no engine");
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfyui:http://a:1?steps"))
                .hasMessageContaining("must be written name=value");
        // a bare value is often a key that lost its "key=": it is not echoed
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "ppio?sk_live_0123456789"))
                .hasMessageContaining("option 1 after '?' must be written name=value").hasMessageNotContaining("sk_live");
    }

    @Test
    void unknownOptionsAreRefusedSoTyposDoNotPassSilently() {
        EngineSpec s = EngineSpec.parseAll(SETTING, "comfyui:http://a:1?stpes=8").getFirst();
        assertThatThrownBy(() -> s.requireOnly(Set.of("steps", "cfg")))
                .hasMessageContaining("unknown option 'stpes'").hasMessageContaining("cfg, name, slots, steps, timeout");
    }

    @Test
    void durationOptionsAreWrittenLikeTheDurationSettings() {
        EngineSpec s = EngineSpec.parseAll(SETTING, "comfyui:http://a:1?timeout=1h30m&poll=1.5s&grace=90").getFirst();
        assertThat(s.timeout()).hasValue(Duration.ofMinutes(90));
        assertThat(s.durationOption("poll", Duration.ZERO)).isEqualTo(Duration.ofMillis(1500));
        assertThat(s.durationOption("grace", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfyui:http://a:1?timeout=soon"))
                .hasMessageContaining("timeout: not a duration: 'soon'").hasMessageContaining("a bare number means seconds");
    }

    @Test
    void aMisspeltKindOrOptionIsRefusedWithTheNameMeant() {
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "comfy:http://a:1"))
                .hasMessageContaining("unknown engine kind 'comfy' (did you mean comfyui?); known kinds: ");
        EngineSpec s = EngineSpec.parseAll(SETTING, "comfyui:http://a:1?stpes=8").getFirst();
        assertThatThrownBy(() -> s.requireOnly(Set.of("steps", "cfg")))
                .hasMessageContaining("unknown option 'stpes' (did you mean steps?); the comfyui engine takes: ");
    }

    @Test
    void secretsInOptionsStayOutOfMessages() {
        assertThatThrownBy(() -> EngineSpec.parseAll(SETTING, "ppio:https://api.ppio.com?key=sk_secret&slots=x"))
                .hasMessageNotContaining("sk_secret");
        EngineSpec s = EngineSpec.parseAll(SETTING, "ppio:https://api.ppio.com?key=sk_secret").getFirst();
        assertThat(s.where()).doesNotContain("sk_secret");
    }
}
