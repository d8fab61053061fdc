/**
 * A Java client of the PPIO / Novita Qwen-Image async API, as this server and the cloud
 * ({@code https://api.ppio.com}) both speak it: {@link dev.qwenimage.sdk.QwenImageClient}
 * submits a {@link dev.qwenimage.sdk.GenerateRequest} (text-to-image) or an
 * {@link dev.qwenimage.sdk.EditRequest} (Qwen-Image-Edit), polls the task's
 * {@link dev.qwenimage.sdk.TaskResult} and downloads the image; every failure is a
 * {@link dev.qwenimage.sdk.QwenImageException}.
 *
 * <p>The package depends only on the JDK ({@code java.net.http}) and Jackson.
 */
package dev.qwenimage.sdk;
