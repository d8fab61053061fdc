package dev.qwenimage.cli;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.Nearest;
import dev.qwenimage.config.Setting;
import dev.qwenimage.config.SettingNames;
import dev.qwenimage.sdk.cli.DurationText;
import dev.qwenimage.sdk.cli.EditCommand;
import dev.qwenimage.sdk.cli.GenerateCommand;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Entry point of the jar: {@code serve} (the default), {@code generate} and {@code edit} (clients
 * of any server), {@code keys} and {@code usage} (clients of a server's admin API) and {@code version}.
 */
@Command(name = "qwen-image", mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Self-hosted server for the PPIO / Novita Qwen-Image async text-to-image API.",
        footer = {"%nEvery setting (QWEN_IMAGE_* environment variables): qwen-image serve --help%n"},
        subcommands = {ServeCommand.class, GenerateCommand.class, EditCommand.class, KeysCommand.class, UsageCommand.class,
                VersionCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Usage text is wrapped at this width unless the terminal says otherwise. */
    static final int WIDTH = 80;

    private final Map<String, String> env;
    private final Path workDir;

    /** The command as the jar runs it: the real environment and current folder. */
    public Main() {
        this(System.getenv(), Path.of(""));
    }

    private Main(Map<String, String> env, Path workDir) {
        this.env = Map.copyOf(env);
        this.workDir = workDir;
    }

    /** The environment variables the client commands ({@code keys}, {@code usage}) read their defaults from. */
    Map<String, String> env() {
        return env;
    }

    /** The folder their relative paths ({@code ./data/admin-token}) start from. */
    Path workDir() {
        return workDir;
    }

    public static void main(String[] args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        int code = commandLine(debug).execute(args.length == 0 ? new String[] {"serve"} : args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * The command line as the jar runs it: usage errors and unexpected failures reported in one line
     * ({@code debug} adds the stack trace), the settings listed under {@code serve --help}, help
     * wrapped to the terminal.
     */
    public static CommandLine commandLine(boolean debug) {
        return commandLine(debug, System.getenv(), Path.of(""));
    }

    /**
     * The command line with the surroundings of the client commands given, for tests: {@code env}
     * in place of the environment, {@code workDir} in place of the current folder.
     */
    public static CommandLine commandLine(boolean debug, Map<String, String> env, Path workDir) {
        CommandLine cli = new CommandLine(new Main(env, workDir));
        cli.setUsageHelpWidth(WIDTH);
        cli.setUsageHelpAutoWidth(true);
        cli.getSubcommands().get("serve").getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_FOOTER,
                help -> settingsHelp(help.commandSpec().usageMessage().width()));
        cli.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            List<String> suggestions = ex instanceof CommandLine.UnmatchedArgumentException u ? suggestions(u) : List.of();
            cmd.getErr().println("qwen-image: " + ex.getMessage().strip().replaceAll("\\s*\\R\\s*", " ")
                    + (suggestions.isEmpty() ? "" : "; did you mean " + String.join(" or ", suggestions) + "?")
                    + " (" + cmd.getCommandSpec().qualifiedName() + " --help lists the options)");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            boolean config = ex instanceof ConfigException;
            boolean canDebug = cmd.getCommandSpec().findOption("--debug") != null;
            err.println("qwen-image: " + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage())
                    + (config || debug || !canDebug ? "" : " (--debug prints the details)"));
            if (debug) {
                ex.printStackTrace(err);
            }
            return config ? 2 : 1;
        });
        return cli;
    }

    /** For each unknown option or command, the option or subcommand it probably meant. */
    private static List<String> suggestions(CommandLine.UnmatchedArgumentException e) {
        var spec = e.getCommandLine().getCommandSpec();
        List<String> names = new java.util.ArrayList<>(spec.optionsMap().keySet());
        names.addAll(spec.subcommands().keySet());
        Set<String> out = new LinkedHashSet<>();
        for (String arg : e.getUnmatched()) {
            String word = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            boolean option = word.startsWith("-");
            Nearest.among(word, names.stream().filter(n -> n.startsWith("-") == option).toList())
                    .filter(n -> !n.equals(word)).ifPresent(out::add);
        }
        return List.copyOf(out);
    }

    @Override
    public void run() {
        commandLine(false).usage(System.out);
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

    /** Every setting with its default, wrapped at {@code width} without breaking a word or a URL, for {@code serve --help}. */
    static String settingsHelp(int width) {
        StringBuilder sb = new StringBuilder("\n");
        wrap(sb, "Settings: environment variables, also accepted by --set NAME=VALUE and in the QWEN_IMAGE_CONFIG file. "
                + "Durations: " + DurationText.EXAMPLES + ".", width, "", "");
        for (Setting s : Setting.ALL) {
            String def = s.defaultValue().isEmpty() ? "(empty)" : s.defaultValue();
            String head = String.format("  %-30s default: %s", s.env(), def);
            if (head.length() <= width) {
                sb.append(head).append('\n');
            } else {
                wrap(sb, "  " + s.env() + " default: " + def, width, "", "      ");
            }
            wrap(sb, s.description(), width, "      ", "      ");
        }
        sb.append('\n');
        wrap(sb, "Read by the launcher and the client commands, not by the service:", width, "", "");
        SettingNames.OTHERS.forEach((name, meaning) -> {
            wrap(sb, "  " + name, width, "", "");
            wrap(sb, meaning, width, "      ", "      ");
        });
        return sb.toString();
    }

    /** Appends {@code text} wrapped at {@code width}, breaking only at spaces; a word longer than a line stays whole. */
    static void wrap(StringBuilder sb, String text, int width, String firstIndent, String restIndent) {
        String indent = firstIndent;
        StringBuilder line = new StringBuilder(indent);
        boolean empty = true;
        int start = 0;
        while (start < text.length() && text.charAt(start) == ' ') {
            line.append(' ');
            start++;
        }
        for (String word : text.substring(start).split(" +")) {
            if (!empty && line.length() + 1 + word.length() > width) {
                sb.append(line).append('\n');
                indent = restIndent;
                line = new StringBuilder(indent);
                empty = true;
            }
            if (!empty) {
                line.append(' ');
            }
            line.append(word);
            empty = false;
        }
        sb.append(line).append('\n');
    }
}
