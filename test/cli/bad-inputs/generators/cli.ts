/**
 * Generators of the CLI rows (test/cli/bad-inputs/cli.json): none needed so far, every row is args, config and
 * text files. The shape every generators/*.ts file exports, merged by test/cli/bad-inputs.test.ts.
 */
export const generators: Record<string, (projectDir: string) => Promise<void>> = {};
