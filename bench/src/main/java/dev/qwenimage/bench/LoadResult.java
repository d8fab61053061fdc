package dev.qwenimage.bench;

/** Throughput and latency of one measured load run. */
record LoadResult(String name, double throughput, double p50Millis, double p99Millis, long errors) {
}
