package driver;

import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.remoting.exception.RemotingException;

/** Exit codes and the JSON description of a failure. */
final class Errors {
    /** Every requested operation succeeded (or a long-running mode was stopped as asked). */
    static final int OK = 0;
    /** An unexpected failure inside the driver (a bug): the stack trace is on stderr. */
    static final int INTERNAL = 1;
    /** Bad arguments: the message says which. Nothing was started. */
    static final int USAGE = 2;
    /** The client could not start (bad name server address, group already in use, ...). */
    static final int START_FAILED = 3;
    /** At least one operation failed (a send, a pull, an admin call): see the error events. */
    static final int OPERATION_FAILED = 4;
    /** A long-running mode hit its timeout before its count was reached. */
    static final int TIMEOUT = 5;

    private Errors() {}

    /** Thrown for bad arguments; main turns it into exit code {@link #USAGE}. */
    static final class Usage extends RuntimeException {
        Usage(String message) {
            super(message);
        }
    }

    /** Thrown when the client cannot start; main turns it into {@link #START_FAILED}. */
    static final class StartFailed extends RuntimeException {
        StartFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static Json describe(Json into, Throwable error) {
        into.put("error", error.getClass().getSimpleName()).put("message", String.valueOf(error.getMessage()));
        // Java wraps the real reason ("send message Exception"): name the innermost cause too.
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        if (root != error) into.put("cause", root.getClass().getSimpleName() + ": " + root.getMessage());
        if (error instanceof MQBrokerException) {
            into.put("code", ((MQBrokerException) error).getResponseCode());
            into.put("brokerAddr", ((MQBrokerException) error).getBrokerAddr());
        } else if (error instanceof MQClientException) {
            into.put("code", ((MQClientException) error).getResponseCode());
        } else if (error instanceof RemotingException) {
            into.put("code", -1);
        }
        return into;
    }
}
