/** POSIX shell quoting for the lines `init` tells the user to paste. */

/** `'text'`, with each `'` written as `'\''`: safe for spaces, quotes, `$` and globs in sh, bash and zsh. */
export const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
