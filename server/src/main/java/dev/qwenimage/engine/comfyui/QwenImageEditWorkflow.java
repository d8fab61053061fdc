package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.GenerationRequest;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * ComfyUI's native Qwen-Image-Edit workflow, as ComfyUI's Qwen-Image-Edit templates (and its
 * 2509 one) wire it: UNETLoader with the edit model, CLIPLoader of type {@code qwen_image},
 * VAELoader, optionally LoraLoaderModelOnly (a Lightning LoRA), ModelSamplingAuraFlow, CFGNorm,
 * LoadImage of the uploaded input, the positive and the negative TextEncodeQwenImageEditPlus
 * (input {@code image1}) or TextEncodeQwenImageEdit (input {@code image}), each given the clip, the
 * vae and the picture (comfy_extras/nodes_qwen.py), VAEEncode of the picture as the latent,
 * KSampler, VAEDecode and SaveImage.
 *
 * <p>The templates put ImageScaleToTotalPixels (one megapixel) between LoadImage and the rest;
 * here the service has already scaled the input to the edit's working size (about one
 * megapixel, multiples of 16) before uploading it, so the latent, and the image, come out at
 * exactly {@code request.width() x request.height()}.
 */
record QwenImageEditWorkflow(ComfyUiSettings settings) implements Workflow {
    static final String UNET = "1";
    static final String CLIP = "2";
    static final String VAE = "3";
    static final String LORA = "4";
    static final String SAMPLING = "5";
    static final String CFG_NORM = "6";
    static final String IMAGE = "7";
    static final String POSITIVE = "8";
    static final String NEGATIVE = "9";
    static final String LATENT = "10";
    static final String SAMPLER = "11";
    static final String DECODE = "12";
    static final String SAVE = "13";

    @Override
    public ObjectNode build(GenerationRequest request, String negativePrompt, Optional<String> inputImage) {
        String image = inputImage.orElseThrow(() -> new IllegalArgumentException("an edit workflow needs the uploaded input's name"));
        ComfyUiSettings s = settings;
        ComfyUiSettings.Edit e = s.edit();
        ObjectNode w = JsonNodeFactory.instance.objectNode();
        QwenImageWorkflow.node(w, UNET, "UNETLoader").put("unet_name", e.model()).put("weight_dtype", s.weightDtype());
        QwenImageWorkflow.node(w, CLIP, "CLIPLoader").put("clip_name", s.clip()).put("type", "qwen_image");
        QwenImageWorkflow.node(w, VAE, "VAELoader").put("vae_name", s.vae());
        String model = UNET;
        if (e.lora().isPresent()) {
            ObjectNode lora = QwenImageWorkflow.node(w, LORA, "LoraLoaderModelOnly");
            lora.set("model", QwenImageWorkflow.link(UNET, 0));
            lora.put("lora_name", e.lora().get()).put("strength_model", e.loraStrength());
            model = LORA;
        }
        ObjectNode sampling = QwenImageWorkflow.node(w, SAMPLING, "ModelSamplingAuraFlow");
        sampling.set("model", QwenImageWorkflow.link(model, 0));
        sampling.put("shift", e.shift());
        ObjectNode norm = QwenImageWorkflow.node(w, CFG_NORM, "CFGNorm");
        norm.set("model", QwenImageWorkflow.link(SAMPLING, 0));
        norm.put("strength", 1.0);
        QwenImageWorkflow.node(w, IMAGE, "LoadImage").put("image", image);
        encoder(w, POSITIVE, request.prompt());
        encoder(w, NEGATIVE, negativePrompt);
        ObjectNode latent = QwenImageWorkflow.node(w, LATENT, "VAEEncode");
        latent.set("pixels", QwenImageWorkflow.link(IMAGE, 0));
        latent.set("vae", QwenImageWorkflow.link(VAE, 0));
        ObjectNode sampler = QwenImageWorkflow.node(w, SAMPLER, "KSampler");
        sampler.set("model", QwenImageWorkflow.link(CFG_NORM, 0));
        sampler.set("seed", QwenImageWorkflow.seed(request.seed()));
        sampler.put("steps", request.steps()).put("cfg", e.cfg()).put("sampler_name", s.sampler()).put("scheduler", s.scheduler());
        sampler.set("positive", QwenImageWorkflow.link(POSITIVE, 0));
        sampler.set("negative", QwenImageWorkflow.link(NEGATIVE, 0));
        sampler.set("latent_image", QwenImageWorkflow.link(LATENT, 0));
        sampler.put("denoise", s.denoise());
        ObjectNode decode = QwenImageWorkflow.node(w, DECODE, "VAEDecode");
        decode.set("samples", QwenImageWorkflow.link(SAMPLER, 0));
        decode.set("vae", QwenImageWorkflow.link(VAE, 0));
        ObjectNode save = QwenImageWorkflow.node(w, SAVE, "SaveImage");
        save.set("images", QwenImageWorkflow.link(DECODE, 0));
        save.put("filename_prefix", s.filenamePrefix());
        return w;
    }

    private void encoder(ObjectNode w, String id, String prompt) {
        ComfyUiSettings.EditVariant v = settings.edit().variant();
        ObjectNode n = QwenImageWorkflow.node(w, id, v.encoder());
        n.set("clip", QwenImageWorkflow.link(CLIP, 0));
        n.put("prompt", prompt);
        n.set("vae", QwenImageWorkflow.link(VAE, 0));
        n.set(v.imageInput(), QwenImageWorkflow.link(IMAGE, 0));
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
        ComfyUiSettings.Edit e = settings.edit();
        return "native Qwen-Image-Edit workflow (" + e.variant().option() + "): " + e.model()
                + e.lora().map(l -> " + LoRA " + l + " @" + e.loraStrength()).orElse("") + ", " + e.steps() + " steps, cfg "
                + e.cfg() + ", shift " + e.shift();
    }
}
