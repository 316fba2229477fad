/**
 * How the developer commands print: colour on a terminal (not with NO_COLOR, not when
 * piped), one JSON object per line with --json.
 */

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
export type Style = keyof typeof CODES;

/** Whether stdout gets colour: a terminal, NO_COLOR unset (https://no-color.org), or FORCE_COLOR set. */
export function colourOn(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export type Painter = (style: Style, text: string) => string;

export const painter = (on: boolean): Painter => (style, text) => (on ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text);

/** An HTTP status coloured by class: 2xx green, 4xx yellow, the rest red. */
export function paintStatus(paint: Painter, status: number | null, text: string): string {
  if (status !== null && status >= 200 && status < 300) return paint('green', text);
  if (status !== null && status >= 400 && status < 500) return paint('yellow', text);
  return paint('red', text);
}

/** A time of day for a line of a stream (local time, HH:MM:SS). */
export const clock = (at: Date = new Date()): string => at.toTimeString().slice(0, 8);

/** One line of JSON (--json streams). */
export const jsonLine = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};
