package dev.qwenimage.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code qwen-image version}: the same line as {@code --version}, plus the Java runtime it runs on. */
@Command(name = "version", description = "Print the version of qwen-image-server and of the Java runtime, and exit.")
final class VersionCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        var out = spec.commandLine().getOut();
        out.println("qwen-image-server " + Main.version());
        out.println("Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ", "
                + System.getProperty("java.home", "") + ")");
        out.flush();
    }
}
