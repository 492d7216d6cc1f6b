package driver;

import java.util.Base64;
import java.util.Collection;
import java.util.Map;

/**
 * A JSON object written field by field: the one output format of the driver (one object per
 * line on stdout). Strings are escaped as RFC 8259 requires; doubles that are not finite become
 * null. No parsing, no reflection.
 */
final class Json {
    private final StringBuilder out = new StringBuilder(256).append('{');
    private boolean first = true;

    static Json event(String name) {
        return new Json().put("event", name);
    }

    private Json key(String name) {
        if (!first) out.append(',');
        first = false;
        quote(out, name);
        out.append(':');
        return this;
    }

    Json put(String name, String value) {
        key(name);
        if (value == null) out.append("null");
        else quote(out, value);
        return this;
    }

    Json put(String name, long value) {
        key(name).out.append(value);
        return this;
    }

    Json put(String name, double value) {
        key(name);
        if (Double.isFinite(value)) out.append(value);
        else out.append("null");
        return this;
    }

    Json put(String name, boolean value) {
        key(name).out.append(value);
        return this;
    }

    Json put(String name, Json value) {
        key(name).out.append(value == null ? "null" : value.toString());
        return this;
    }

    Json putBase64(String name, byte[] value) {
        return put(name, value == null ? null : Base64.getEncoder().encodeToString(value));
    }

    /** A JSON array of the elements' JSON (Json values as objects, numbers as numbers, the rest as strings). */
    Json putArray(String name, Collection<?> values) {
        key(name).out.append('[');
        boolean firstElement = true;
        for (Object value : values) {
            if (!firstElement) out.append(',');
            firstElement = false;
            if (value == null) out.append("null");
            else if (value instanceof Json || value instanceof Number || value instanceof Boolean) out.append(value);
            else quote(out, value.toString());
        }
        out.append(']');
        return this;
    }

    /** A JSON object of string values. */
    Json putStrings(String name, Map<?, ?> values) {
        Json object = new Json();
        if (values != null) values.forEach((k, v) -> object.put(String.valueOf(k), v == null ? null : String.valueOf(v)));
        return put(name, object);
    }

    @Override
    public String toString() {
        return out + "}";
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
            }
        }
        sb.append('"');
    }
}
