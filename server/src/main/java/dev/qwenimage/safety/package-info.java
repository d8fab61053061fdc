/**
 * Image safety: the nsfwjs NSFW classifier (its default MobileNetV2 model) in plain Java.
 *
 * <p>Entry points: {@link dev.qwenimage.safety.NsfwModel#loadDefault()} (the bundled model, loaded
 * once), {@link dev.qwenimage.safety.NsfwModel#classify} for one image on the calling thread,
 * {@link dev.qwenimage.safety.NsfwModel#classifyAll} for several in parallel, and
 * {@link dev.qwenimage.safety.NsfwScores} with the five probabilities and the verdict rule
 * ({@code porn + hentai + sexy >= 0.5}).
 *
 * <p>How it is built: {@code TfjsLayersModel} reads the TF.js files (model.json topology, uint8
 * weights dequantized as tfjs-core does), {@code NetworkCompiler} turns the Keras layers into a
 * few dozen fused operations (batch norms folded into the convolutions, ReLU6, residual adds and
 * paddings in their epilogues), {@code Network} runs them with loops that HotSpot vectorises
 * (see {@code Kernels} for the one rule that makes that happen), and {@code ImageInput} prepares
 * the pixels exactly as nsfwjs does. The parity test holds it to nsfwjs's own output.
 */
package dev.qwenimage.safety;
