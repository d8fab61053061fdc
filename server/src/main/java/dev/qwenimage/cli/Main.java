package dev.qwenimage.cli;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.Setting;
import dev.qwenimage.sdk.cli.GenerateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the jar: {@code serve} (the default), {@code generate} (a client of any server) and {@code version}. */
@Command(name = "qwen-image", mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Self-hosted server for the PPIO / Novita Qwen-Image async text-to-image API.",
        subcommands = {ServeCommand.class, GenerateCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new Main());
        cli.getCommandSpec().usageMessage().footer(settingsHelp());
        cli.getSubcommands().get("serve").getCommandSpec().usageMessage().footer(settingsHelp());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof ConfigException || ex instanceof IllegalStateException) {
                cmd.getErr().println("qwen-image: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        int code = cli.execute(args.length == 0 ? new String[] {"serve"} : args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** The version from the jar manifest. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"qwen-image-server " + version()};
        }
    }

    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** Every setting with its default, for --help. */
    static String settingsHelp() {
        StringBuilder sb = new StringBuilder("%nSettings (environment variables; also accepted by --set and in the QWEN_IMAGE_CONFIG file):%n");
        for (Setting s : Setting.ALL) {
            sb.append(String.format("  %-30s default: %s%n      %s%n", s.env(),
                    s.defaultValue().isEmpty() ? "(empty)" : s.defaultValue(), s.description().replace("%", "%%")));
        }
        return sb.toString();
    }
}
