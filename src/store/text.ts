/**
 * Text from outside (a receiver's answer, an error message) made storable: PostgreSQL
 * refuses U+0000 in text, so one byte in a response excerpt failed the whole statement
 * that recorded it. NUL becomes U+FFFD, the replacement character.
 */
export const storableText = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

export const storableTextOrNull = (s: string | null | undefined): string | null => (s == null ? null : storableText(s));
