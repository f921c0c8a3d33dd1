/** Escaping for markdown that GitHub renders: file and package names are data, never markup. */

/** Escapes text for a table cell; `code` for inside backticks (where only the backtick and the pipe matter). */
export function escapeMarkdown(text: string, code = false): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  if (code) return oneLine.replace(/`/g, 'ˋ').replace(/\|/g, '\\|');
  // Only what can start markup inside a line: emphasis, code, links/images ([ and ]), tables, HTML, strikethrough.
  // A word joiner after "@" keeps "@types/node" from mentioning (and notifying) the GitHub user "types".
  return oneLine
    .replace(/&/g, '&amp;')
    .replace(/[\\`*_[\]|<>~]/g, (c) => `\\${c}`)
    .replace(/@(?=[\w-])/g, '@\u2060');
}

/** Text as an inline code span: names stay literal, and `@scope/pkg` does not mention anyone on GitHub. */
export const codeSpan = (text: string) => `\`${escapeMarkdown(text, true)}\``;
