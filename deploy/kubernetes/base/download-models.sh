#!/bin/sh
# Downloads the three Qwen-Image files ComfyUI's native workflow needs (about 30 GB), each only when
# missing, resuming a partial download. MODELS: the ComfyUI models folder (a volume).
set -eu
MODELS=${MODELS:-/models}
BASE=https://huggingface.co/Comfy-Org/Qwen-Image_ComfyUI/resolve/main/split_files
for f in diffusion_models/qwen_image_fp8_e4m3fn.safetensors \
         text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors \
         vae/qwen_image_vae.safetensors; do
  if [ -s "$MODELS/$f" ]; then echo "have $f"; continue; fi
  mkdir -p "$MODELS/$(dirname "$f")"
  echo "downloading $f"
  curl -fL --retry 5 --retry-delay 10 -C - -o "$MODELS/$f.part" "$BASE/$f"
  mv "$MODELS/$f.part" "$MODELS/$f"
done
echo "models ready in $MODELS"
