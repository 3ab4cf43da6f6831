/**
 * Names from an RTMP client, made safe for the runtime log: a client chooses them, so they may
 * hold a stream key (`rtmp://host/app/<key>` as the server URL is a common OBS mistake), control
 * characters that forge log lines, or megabytes.
 */

/** Longer names are shown as a hint only: stream keys are longer (IVS's are 40+ characters). */
const SHOWN_MAX = 12;

/** `text` with every control character (and backslash) escaped, cut to `max` characters. */
export function escapeForLog(text: string, max = 160): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return cut.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A client's application or stream name for the log. A short plain word (`app`, `live`) is shown
 * quoted; anything else, which may be a key, only as a hint that cannot give it back: its first
 * 4 characters, escaped, and its length (`"app/…" (33 characters)`).
 */
export function nameForLog(name: string): string {
  if (name.length <= SHOWN_MAX && /^[A-Za-z0-9_.-]*$/.test(name)) return `"${name}"`;
  return `"${escapeForLog(name.slice(0, 4))}…" (${name.length} characters)`;
}
