/** `npm run bench`: every benchmark against its real peer in the same run; prints one line per result. */
const which = new Set(process.argv.slice(2));
const wanted = (name: string) => which.size === 0 || which.has(name);

if (wanted('scan')) {
  const { runScanBench } = await import('./scan.js');
  console.log(runScanBench().line);
}
if (wanted('zip')) {
  const { runZipBench } = await import('./zip.js');
  for (const result of await runZipBench()) console.log(result.line);
}
if (wanted('handler')) {
  const mod = (await import('./handler.js')) as { runHandlerBench?: () => Promise<{ lines: string[] }> };
  if (mod.runHandlerBench) for (const line of (await mod.runHandlerBench()).lines) console.log(line);
}
if (wanted('h5-readers')) {
  const { runH5ReadersBench } = await import('./h5-readers.js');
  for (const line of (await runH5ReadersBench()).lines) console.log(line);
}
if (wanted('convert')) {
  const { runConvertBench } = await import('./convert.js');
  for (const quantize of [undefined, 'auto'] as const) {
    const result = await runConvertBench({ quantize });
    console.log(result.line, result.isWithinTargets ? '' : '(over target)');
  }
}
if (wanted('backfill')) {
  const { runBackfillBench } = await import('./backfill.js');
  for (const line of (await runBackfillBench()).lines) console.log(line);
}
