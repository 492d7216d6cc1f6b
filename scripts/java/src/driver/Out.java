package driver;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The driver's stdout: JSON lines and nothing else. {@link #install()} keeps the real stdout
 * for events and points {@code System.out} at stderr, so whatever a library prints (logback
 * status lines, stray printlns) can never corrupt the event stream.
 */
final class Out {
    private static PrintStream events;

    private Out() {}

    static void install() {
        events = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
    }

    /** Writes one event line and flushes it: a reader sees every event as soon as it happens. */
    static synchronized void emit(Json event) {
        events.print(event.toString());
        events.print('\n');
        events.flush();
    }

    static void error(String kind, Throwable error) {
        emit(Errors.describe(Json.event("error").put("kind", kind), error));
    }
}
