/**
 * Tables for a terminal. Cells hold what callers recorded (key aliases, grant ids, secret names,
 * access keys a refused request claimed), so every cell is escaped before it is printed: a control
 * character (ESC, CR, LF, …) or an invisible one (bidi overrides, zero-width marks) would otherwise
 * let a caller forge rows, clear the screen or set the terminal's title. Widths are display widths
 * (a CJK character or an emoji takes two columns), so escaped and wide cells still line up.
 */

/** Code points a terminal would act on or not show: C0/C1 controls, DEL, format characters, separators, lone surrogates, unassigned. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}\\]/gu;
/** ZERO WIDTH JOINER is a format character that emoji sequences are made of: kept inside one. */
const ZWJ = 0x200d;
const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A cell as it is safe to print: backslash, controls and invisibles written as escapes (`\x1b`, `\r`, `\u{202e}`). */
export function escapeCell(text: string): string {
  return text.replace(UNPRINTABLE, (c, offset: number) => {
    const code = c.codePointAt(0) as number;
    if (NAMED[c] !== undefined) return NAMED[c];
    if (code === ZWJ && /\p{Extended_Pictographic}/u.test(text.slice(Math.max(0, offset - 2), offset)) && /^\p{Extended_Pictographic}/u.test(text.slice(offset + 1))) return c;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** East Asian Wide and Fullwidth ranges (Unicode UAX #11) that a terminal draws two columns wide. */
const WIDE = /[\u{1100}-\u{115f}\u{231a}\u{231b}\u{2329}\u{232a}\u{2e80}-\u{303e}\u{3041}-\u{33ff}\u{3400}-\u{4dbf}\u{4e00}-\u{9fff}\u{a000}-\u{a4cf}\u{a960}-\u{a97f}\u{ac00}-\u{d7a3}\u{f900}-\u{faff}\u{fe10}-\u{fe19}\u{fe30}-\u{fe6f}\u{ff00}-\u{ff60}\u{ffe0}-\u{ffe6}\u{1b000}-\u{1b2ff}\u{1f200}-\u{1f2ff}\u{20000}-\u{2fffd}\u{30000}-\u{3fffd}]/u;
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\u{fe0f}/u;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u{200b}]+$/u;
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** How many terminal columns an (escaped) text takes: one per grapheme, two for wide ones. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (ZERO_WIDTH.test(segment)) continue;
    width += WIDE.test(String.fromCodePoint(segment.codePointAt(0) as number)) || EMOJI.test(segment) ? 2 : 1;
  }
  return width;
}

/** `text` cut to at most `width` columns, ending in `…` where something was cut. */
function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let kept = '';
  for (const { segment } of graphemes.segment(text)) {
    if (displayWidth(kept + segment) > width - 1) break;
    kept += segment;
  }
  return `${kept}…`;
}

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/**
 * A table: upper-case headers, columns two spaces apart, no trailing blanks. A column's width fits
 * its widest cell, unless `fixed` gives it one (a table printed a page at a time keeps its columns
 * from page to page): a longer cell is then cut and ends in `…`. The last column is never padded.
 */
export function table(headers: string[], rows: string[][], fixed: Array<number | undefined> = []): string {
  const cells = rows.map((r) => headers.map((_, i) => escapeCell(r[i] ?? '')));
  const widths = headers.map((h, i) => fixed[i] ?? Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i]))));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : pad(fixed[i] === undefined ? c : truncate(c, widths[i]), widths[i]))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}
