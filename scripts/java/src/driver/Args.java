package driver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line flags: {@code --name=value}, {@code --name value}, or a bare {@code --name}
 * (boolean true). A flag may repeat; {@link #list} reads every value. {@link #finish()} refuses
 * flags nobody read, so a typo is a usage error, not a silently ignored option.
 */
final class Args {
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final Set<String> read = new LinkedHashSet<>();

    Args(String[] argv, int from) {
        for (int i = from; i < argv.length; i++) {
            String token = argv[i];
            if (!token.startsWith("--") || token.length() == 2) throw new Errors.Usage("expected a --flag, got " + token);
            int eq = token.indexOf('=');
            String name;
            String value;
            if (eq > 0) {
                name = token.substring(2, eq);
                value = token.substring(eq + 1);
            } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                name = token.substring(2);
                value = argv[++i];
            } else {
                name = token.substring(2);
                value = "true";
            }
            values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
    }

    List<String> list(String name) {
        read.add(name);
        return values.getOrDefault(name, List.of());
    }

    String string(String name, String fallback) {
        List<String> all = list(name);
        return all.isEmpty() ? fallback : all.get(all.size() - 1);
    }

    String required(String name) {
        String value = string(name, null);
        if (value == null || value.isEmpty()) throw new Errors.Usage("--" + name + " is required");
        return value;
    }

    long longValue(String name, long fallback) {
        String value = string(name, null);
        if (value == null) return fallback;
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new Errors.Usage("--" + name + " must be an integer, got " + value);
        }
    }

    int intValue(String name, int fallback) {
        long value = longValue(name, fallback);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) throw new Errors.Usage("--" + name + " is out of range: " + value);
        return (int) value;
    }

    boolean flag(String name) {
        String value = string(name, "false");
        if (value.equals("true")) return true;
        if (value.equals("false")) return false;
        throw new Errors.Usage("--" + name + " takes true or false, got " + value);
    }

    String choice(String name, String fallback, String... allowed) {
        String value = string(name, fallback);
        if (value == null) return null;
        String upper = value.toUpperCase();
        for (String option : allowed) if (option.equals(upper)) return option;
        throw new Errors.Usage("--" + name + " must be one of " + Arrays.toString(allowed) + ", got " + value);
    }

    /** The name server list: --namesrv, else $ROCKETMQ_NAMESRV_ADDR. */
    String namesrv() {
        String value = string("namesrv", System.getenv("ROCKETMQ_NAMESRV_ADDR"));
        if (value == null || value.isEmpty()) throw new Errors.Usage("--namesrv (or ROCKETMQ_NAMESRV_ADDR) is required");
        return value;
    }

    /** Fails on any flag that was given but never read. */
    void finish() {
        List<String> unknown = new ArrayList<>();
        for (String name : values.keySet()) if (!read.contains(name)) unknown.add("--" + name);
        if (!unknown.isEmpty()) throw new Errors.Usage("unknown flag(s) for this subcommand: " + String.join(", ", unknown));
    }
}
