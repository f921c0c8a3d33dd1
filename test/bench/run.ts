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
if (wanted('deflate-cache')) {
  const { runDeflateCacheBench } = await import('./deflate-cache.js');
  for (const line of await runDeflateCacheBench()) console.log(line);
}
if (wanted('handler')) {
  const mod = (await import('./handler.js')) as { runHandlerBench?: () => Promise<{ lines: string[] }> };
  if (mod.runHandlerBench) for (const line of (await mod.runHandlerBench()).lines) console.log(line);
  const { runOnnxBench } = await import('./onnx.js'); // the backend comparison (issue 13) is part of `handler`
  for (const line of (await runOnnxBench()).lines) console.log(line);
}
if (wanted('h5-readers')) {
  const { runH5ReadersBench } = await import('./h5-readers.js');
  for (const line of (await runH5ReadersBench()).lines) console.log(line);
}
if (wanted('convert')) {
  const { CONVERT_BENCH_RUNS, runConvertBench } = await import('./convert.js');
  for (const run of CONVERT_BENCH_RUNS) {
    const result = await runConvertBench(run);
    console.log(result.line, result.isWithinTargets ? '' : '(over target)');
  }
}
if (wanted('onnx') && !wanted('handler')) {
  const { runOnnxBench } = await import('./onnx.js');
  for (const line of (await runOnnxBench()).lines) console.log(line);
}
if (wanted('backfill')) {
  const { runBackfillBench } = await import('./backfill.js');
  for (const line of (await runBackfillBench()).lines) console.log(line);
}
if (wanted('coldstart')) {
  const { runColdstartBench } = await import('./coldstart.js');
  for (const line of (await runColdstartBench(process.argv.slice(2))).lines) console.log(line);
}
