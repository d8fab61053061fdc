/**
 * Qwen-Image-Edit's input image, from what a client sent to what an engine gets: where it comes
 * from ({@link dev.qwenimage.edit.ImageSource}: a URL the service fetches through the outbound
 * guard, or bytes sent inline), what it is ({@link dev.qwenimage.edit.InputDecoder}: the format
 * sniffed from its bytes, a pixel cap checked before any pixel is decoded, EXIF orientation
 * applied, alpha flattened), and the size the edit works at ({@link dev.qwenimage.edit.EditSize}).
 * A bad input is an {@link dev.qwenimage.edit.ImageRejected} with a reason the contract names.
 * Depends on outbound, image and engine; nothing here knows the queue.
 */
package dev.qwenimage.edit;
