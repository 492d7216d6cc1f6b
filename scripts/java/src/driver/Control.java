package driver;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Commands on stdin for the long-running modes. One command per line:
 * <ul>
 *   <li>{@code stop}: finish (shut the client down cleanly, print the summary, exit 0);</li>
 *   <li>{@code ping}: answered with a {@code pong} event (a liveness probe).</li>
 * </ul>
 * The end of stdin counts as {@code stop}, so a driver whose parent died never lingers.
 */
final class Control {
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile String reason = null;

    static Control start() {
        Control control = new Control();
        Thread reader = new Thread(control::read, "driver-stdin");
        reader.setDaemon(true);
        reader.start();
        return control;
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String command = line.trim();
                if (command.equals("stop")) {
                    stop("stop");
                    return;
                } else if (command.equals("ping")) {
                    Out.emit(Json.event("pong"));
                } else if (!command.isEmpty()) {
                    Out.emit(Json.event("error").put("kind", "command").put("message", "unknown command: " + command));
                }
            }
        } catch (Exception ignored) {
            // stdin broke: treated as its end
        }
        stop("stdin-closed");
    }

    void stop(String why) {
        if (reason == null) reason = why;
        stopped.countDown();
    }

    boolean isStopped() {
        return stopped.getCount() == 0;
    }

    /** Waits until stopped or the time is up; true when stopped. */
    boolean await(long millis) throws InterruptedException {
        return stopped.await(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    String reason() {
        return reason;
    }
}
