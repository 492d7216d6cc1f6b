/**
 * A live progress line for long commands (`rmq bench`): on a terminal, one line on stderr redrawn
 * in place every `interval` (carriage return, then erase to the end of the line); elsewhere (a
 * pipe, a file, CI) a plain line every `plainInterval`, so logs stay readable. The last state is
 * printed as a final line when the scope closes.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Schedule, type Scope } from "effect"

/** Carriage return, then ANSI "erase to end of line". */
const REDRAW = "\r\u001b[K"

/**
 * Options of {@link start}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProgressOptions {
  /** Whether stderr is a terminal (redraw in place). Default: `process.stderr.isTTY`. */
  readonly tty?: boolean | undefined
  /** Redraw period on a terminal. Default 250 ms. */
  readonly interval?: Duration.Input | undefined
  /** Line period elsewhere. Default 1 s. */
  readonly plainInterval?: Duration.Input | undefined
  /** Where lines go. Default: stderr. */
  readonly write?: ((text: string) => void) | undefined
}

/**
 * Shows `line()` until the scope closes: redrawn in place on a terminal, as plain lines
 * otherwise; then the final line, ended by a newline.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (line: () => string, options?: ProgressOptions): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const tty = options?.tty ?? process.stderr.isTTY === true
    const write = options?.write ?? ((text: string) => void process.stderr.write(text))
    const period = tty ? options?.interval ?? Duration.millis(250) : options?.plainInterval ?? Duration.seconds(1)
    const draw = Effect.sync(() => write(tty ? `${REDRAW}${line()}` : `${line()}\n`))
    yield* Effect.addFinalizer(() => Effect.sync(() => write(tty ? `${REDRAW}${line()}\n` : `${line()}\n`)))
    yield* draw.pipe(Effect.delay(period), Effect.repeat(Schedule.spaced(period)), Effect.forkScoped)
  })
