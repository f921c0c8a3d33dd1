/** Entry point: the exit code is set, never forced, so piped output flushes. */
import { main } from './cli/main.js';
import { nodeIo } from './cli/io.js';

process.exitCode = await main(process.argv, nodeIo());
