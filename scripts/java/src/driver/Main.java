package driver;

/**
 * The driver's entry point: {@code driver.Main <subcommand> [--flag value ...]}. Arguments in,
 * JSON lines out (one event per line on stdout, logs on stderr), commands on stdin for the
 * long-running modes, and an exit code that says what failed (see {@link Errors}). The
 * subcommands are documented in scripts/java/README.md.
 */
public final class Main {
    private Main() {}

    private static final String USAGE = "usage: driver.Main produce|push-consume|pull|admin <op>|bench-produce|bench-consume [--flag value ...]";

    public static void main(String[] argv) {
        Out.install();
        int code;
        try {
            code = dispatch(argv);
        } catch (Errors.Usage e) {
            Out.emit(Json.event("error").put("kind", "usage").put("message", e.getMessage()));
            code = Errors.USAGE;
        } catch (Errors.StartFailed e) {
            Out.error("start", e.getCause() != null ? e.getCause() : e);
            code = Errors.START_FAILED;
        } catch (Throwable e) {
            e.printStackTrace();
            Out.error("internal", e);
            code = Errors.INTERNAL;
        }
        // The client libraries leave non-daemon threads behind after shutdown; exit explicitly.
        System.exit(code);
    }

    private static int dispatch(String[] argv) throws Exception {
        if (argv.length == 0) throw new Errors.Usage(USAGE);
        switch (argv[0]) {
            case "produce":
                return Produce.run(new Args(argv, 1));
            case "push-consume":
                return PushConsume.run(new Args(argv, 1));
            case "pull":
                return Pull.run(new Args(argv, 1));
            case "admin":
                if (argv.length < 2) throw new Errors.Usage("admin needs an operation: running-info, connections or consume-stats");
                return Admin.run(argv[1], new Args(argv, 2));
            case "bench-produce":
                return Bench.produce(new Args(argv, 1));
            case "bench-consume":
                return Bench.consume(new Args(argv, 1));
            default:
                throw new Errors.Usage(USAGE);
        }
    }
}
