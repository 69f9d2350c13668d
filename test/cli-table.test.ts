import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, escapeCell, table } from '../src/cli/table.ts';

test('every cell is escaped: ESC, CR, LF, TAB, DEL, C1, bidi overrides and backslash, never printed raw', () => {
  assert.equal(escapeCell('a\u001b]0;title\u0007b'), 'a\\x1b]0;title\\x07b');
  assert.equal(escapeCell('x\r\ny\tz\u007f\u009b'), 'x\\r\\ny\\tz\\x7f\\x9b');
  assert.equal(escapeCell('pay\u202eslx.exe'), 'pay\\u{202e}slx.exe');
  assert.equal(escapeCell('zero\u200bwidth'), 'zero\\u{200b}width');
  assert.equal(escapeCell('a\\x1b'), 'a\\\\x1b');                // a backslash cannot pose as an escape
  assert.equal(escapeCell('订单-🔑-café'), '订单-🔑-café');          // printable text stays as it is
  assert.equal(escapeCell('👩‍💻'), '👩‍💻');                        // the joiner inside an emoji sequence stays
});

test('widths are display columns: CJK and emoji take two, combining marks none', () => {
  assert.deepEqual(['abc', '订单', '🔑', 'e\u0301', '👩‍💻', '\\x1b'].map(displayWidth), [3, 4, 2, 1, 2, 4]);
});

test('a table lines up rows holding escapes and wide characters, one line a row', () => {
  const printed = table(['NAME', 'ID'], [['\r\u001b[Kforged', '1'], ['订单', '2'], ['🔑 key', '3'], ['line\nbreak', '4']]);
  assert.equal(printed, [
    'NAME            ID',
    '\\r\\x1b[Kforged  1',
    '订单            2',
    '🔑 key          3',
    'line\\nbreak     4',
  ].join('\n'));
});

test('fixed widths: the same columns whatever the rows, longer cells cut with …', () => {
  const fixed = [6, 4];
  assert.equal(table(['A', 'B', 'C'], [['1', '2', '3']], fixed), 'A       B     C\n1       2     3');
  assert.equal(table(['A', 'B', 'C'], [['1234567', '订单订单', 'long last cell']], fixed), 'A       B     C\n12345…  订…   long last cell');
});
