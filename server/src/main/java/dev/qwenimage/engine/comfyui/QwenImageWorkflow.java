package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.GenerationRequest;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * ComfyUI's native Qwen-Image text-to-image workflow (as in ComfyUI's own Qwen-Image example):
 * UNETLoader, CLIPLoader of type {@code qwen_image}, VAELoader, optionally LoraLoaderModelOnly
 * (a Lightning LoRA), ModelSamplingAuraFlow, EmptySD3LatentImage, two CLIPTextEncode, KSampler,
 * VAEDecode and SaveImage. Input names and output indexes follow ComfyUI's nodes.py,
 * comfy_extras/nodes_model_advanced.py and comfy_extras/nodes_sd3.py.
 */
record QwenImageWorkflow(ComfyUiSettings settings) implements Workflow {
    static final String UNET = "1";
    static final String CLIP = "2";
    static final String VAE = "3";
    static final String LORA = "4";
    static final String SAMPLING = "5";
    static final String POSITIVE = "6";
    static final String NEGATIVE = "7";
    static final String LATENT = "8";
    static final String SAMPLER = "9";
    static final String DECODE = "10";
    static final String SAVE = "11";

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @Override
    public ObjectNode build(GenerationRequest request, String negativePrompt, Optional<String> inputImage) {
        ComfyUiSettings s = settings;
        ObjectNode w = F.objectNode();
        node(w, UNET, "UNETLoader").put("unet_name", s.unet()).put("weight_dtype", s.weightDtype());
        node(w, CLIP, "CLIPLoader").put("clip_name", s.clip()).put("type", "qwen_image");
        node(w, VAE, "VAELoader").put("vae_name", s.vae());
        String model = UNET;
        if (s.lora().isPresent()) {
            ObjectNode lora = node(w, LORA, "LoraLoaderModelOnly");
            lora.set("model", link(UNET, 0));
            lora.put("lora_name", s.lora().get()).put("strength_model", s.loraStrength());
            model = LORA;
        }
        ObjectNode sampling = node(w, SAMPLING, "ModelSamplingAuraFlow");
        sampling.set("model", link(model, 0));
        sampling.put("shift", s.shift());
        ObjectNode positive = node(w, POSITIVE, "CLIPTextEncode").put("text", request.prompt());
        positive.set("clip", link(CLIP, 0));
        ObjectNode negative = node(w, NEGATIVE, "CLIPTextEncode").put("text", negativePrompt);
        negative.set("clip", link(CLIP, 0));
        node(w, LATENT, "EmptySD3LatentImage").put("width", request.width()).put("height", request.height()).put("batch_size", 1);
        ObjectNode sampler = node(w, SAMPLER, "KSampler");
        sampler.set("model", link(SAMPLING, 0));
        sampler.set("seed", seed(request.seed()));
        sampler.put("steps", request.steps()).put("cfg", s.cfg()).put("sampler_name", s.sampler())
                .put("scheduler", s.scheduler());
        sampler.set("positive", link(POSITIVE, 0));
        sampler.set("negative", link(NEGATIVE, 0));
        sampler.set("latent_image", link(LATENT, 0));
        sampler.put("denoise", s.denoise());
        ObjectNode decode = node(w, DECODE, "VAEDecode");
        decode.set("samples", link(SAMPLER, 0));
        decode.set("vae", link(VAE, 0));
        ObjectNode save = node(w, SAVE, "SaveImage");
        save.set("images", link(DECODE, 0));
        save.put("filename_prefix", s.filenamePrefix());
        return w;
    }

    @Override
    public List<String> imageNodes() {
        return List.of(SAVE);
    }

    @Override
    public Set<String> samplerNodes() {
        return Set.of(SAMPLER);
    }

    @Override
    public String describe() {
        ComfyUiSettings s = settings;
        return "native Qwen-Image workflow: " + s.unet() + s.lora().map(l -> " + LoRA " + l + " @" + s.loraStrength()).orElse("")
                + ", " + s.steps() + " steps, cfg " + s.cfg() + ", " + s.sampler() + "/" + s.scheduler() + ", shift " + s.shift();
    }

    static ObjectNode node(ObjectNode workflow, String id, String classType) {
        ObjectNode n = workflow.putObject(id);
        n.put("class_type", classType);
        return n.putObject("inputs");
    }

    static ArrayNode link(String nodeId, int output) {
        return F.arrayNode().add(nodeId).add(output);
    }

    /** KSampler's seed is an unsigned 64-bit value (0 .. 0xffffffffffffffff). */
    static JsonNode seed(long seed) {
        return seed >= 0 ? F.numberNode(seed) : F.numberNode(new BigInteger(Long.toUnsignedString(seed)));
    }
}
