/**
 * The CLI: commander wiring only; each command's module (and its heavy deps: AWS SDK, tracer, TF.js) loads on use.
 * Returns the exit code; never calls process.exit (piped output flushes).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, LambdaMlError, type ExitCode } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';
import { reportError } from './errors.js';
import { aliasName, httpUrl, regionName, wholeNumber } from './flag-values.js';
import type { GlobalOptions, Io } from './io.js';

const EMPTY: GlobalOptions = {};

type Action = (opts: Record<string, unknown>, args: string[]) => Promise<ExitCode>;

/** Runs the CLI with `argv` (as process.argv: node, script, ...args). */
export async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.OK;
  let globals: GlobalOptions = EMPTY;
  const program = new Command('lambda-ml')
    .description('Get image-classification models into AWS Lambda despite its size limits.')
    .version(VERSION, '-V, --version')
    .option(
      '-c, --config <path>',
      'config file (default: lambda-ml.config.json, or the "lambda-ml" key of package.json)',
    )
    .option('--json', 'one JSON document on stdout, nothing else')
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'more detail, including error causes')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(asHint(s)),
    })
    .showSuggestionAfterError(true);

  const wrap =
    (action: Action) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const opts = command.optsWithGlobals();
      globals = opts as GlobalOptions;
      exitCode = await action(opts, command.args);
    };

  awsOptions(
    program
      .command('budget')
      .description(
        'measure code, deps, layers and models against every Lambda limit and pick the plan (exit 1 if nothing fits)',
      )
      .option(
        '--markdown [file]',
        'write a markdown report (to stdout, or appended to FILE, e.g. $GITHUB_STEP_SUMMARY)',
      )
      .option('--top <n>', 'packages to list (1–1000)', wholeNumber('--top', 1, 1000), 8)
      .option(
        '--files <n>',
        'list the N largest files with their package (1–1000), in every format',
        wholeNumber('--files', 1, 1000),
      )
      .option('--base <file>', "compare with an earlier `budget --json` (e.g. the main branch's): the delta")
      .option('--html <file>', 'write a self-contained HTML report (treemap, limits, plan, largest files)')
      .option('--account-limits', "use the account's own code size limits (lambda:GetAccountSettings)"),
  ).action(wrap(async (opts) => (await import('./commands/budget.js')).budgetCommand(io, opts)));

  program
    .command('init [dir]')
    .description('write a starter asset-classifier project (config, package.json with the handler deps, a model)')
    .option('-f, --force', 'overwrite existing files')
    .option(
      '--name <name>',
      'project name: npm package, Lambda function, <name>-models/-artifacts/-assets buckets (default: from the folder)',
    )
    .option(
      '--model <path>',
      'your model instead of the bundled content-safety one: a TF.js folder, a model.json, or a Keras .h5/.keras',
    )
    .option('--labels <file>', "the --model's class names: a JSON array, or one label per line")
    .action(wrap(async (opts, args) => (await import('./commands/init.js')).initCommand(io, args[0], opts)));

  awsOptions(
    program
      .command('package')
      .description('strip, prune, audit and zip at level 9 into --out (function.zip, deps.zip, models, manifest.json)')
      .option('-o, --out <dir>', 'output folder', undefined)
      .option('--prune <mode>', 'off | safe | trace (default: config "prune", else safe)')
      .option('--strict', 'a layer/deps version mismatch is an error'),
  ).action(
    wrap((opts) =>
      withAbort(async (signal) => (await import('./commands/package.js')).packageCommand(io, opts, signal)),
    ),
  );

  awsOptions(
    program
      .command('deploy')
      .description(
        'package (or reuse with --no-package), upload content-addressed, update the ' +
          'function, publish, move the alias, configure the S3 trigger',
      )
      .option('-o, --out <dir>', 'artifacts folder')
      .option('--dry-run', 'print the calls it would make, make none')
      .option('--no-package', 'reuse the manifest in --out instead of packaging again')
      .option('--alias <name>', 'alias to move (default: function.alias, else live)', aliasName('--alias')),
  ).action(
    wrap((opts) => withAbort(async (signal) => (await import('./commands/deploy.js')).deployCommand(io, opts, signal))),
  );

  program
    .command('invoke')
    .description('run the packaged handler in a Lambda-like child process and print its result and timings')
    .option('--local', 'run locally (the only mode)')
    .option('--event <file>', 'an S3 or S3 Batch Operations event (JSON)')
    .option('--s3 <url>', 'build an S3 put event for s3://bucket/key')
    .option(
      '--s3-local',
      'try it offline: a built-in local S3 (s3rver on 127.0.0.1) with the staged models and --image files',
    )
    .option('--image <files...>', 'with --s3-local: image files to upload to the trigger bucket and classify')
    .option('-o, --out <dir>', 'artifacts folder (as package wrote it)')
    .option('--endpoint <url>', 'S3-compatible endpoint the handler talks to (models and deps are staged there)')
    .option(
      '--node <path>',
      "the node binary to run the handler on (default: the runtime's Node major, installed once)",
    )
    .option('--repeat <n>', 'invocations, 1–1000 (the first is the cold start)', wholeNumber('--repeat', 1, 1000), 1)
    .option('--keep', 'keep the unpacked task root and /tmp')
    .action(
      wrap((opts) =>
        withAbort(async (signal) => (await import('./commands/invoke.js')).invokeCommand(io, opts, signal)),
      ),
    );

  program
    .command('demo')
    .description('the whole product on this machine: budget, package, then classify sample photos through a local S3')
    .option('--images <dir>', 'your own photos instead of the bundled ones')
    .action(wrap(async (opts) => (await import('./commands/demo.js')).demoCommand(io, opts)));

  program
    .command('policy')
    .description("print the least-privilege IAM policy the function's role needs")
    .option('--backfill', "the backfill job role's trust policy and permissions, and what the caller of backfill needs")
    .action(wrap(async (opts) => (await import('./commands/policy.js')).policyCommand(io, opts)));

  awsOptions(
    program
      .command('backfill [source]')
      .description(
        'classify the images already in s3://bucket/prefix with an S3 Batch Operations job (or --local here)',
      )
      .option('--suffix <suffix>', 'keep keys ending so (repeatable; default: trigger.suffixes)', collect('--suffix'))
      .addOption(
        new Option('--manifest <kind>', "the object list: S3's manifest generator, or a CSV lambda-ml uploads").choices(
          ['generator', 'csv'],
        ),
      )
      .option('--dry-run', 'print the CreateJob request, the object count and the estimated cost; create nothing')
      .option('--wait', 'follow the job to the end, then print its failures by reason (exit 1 if any task failed)')
      .option('--role <arn>', 'the job role (default: backfill.role; lambda-ml policy --backfill prints it)')
      .option('--confirm', 'the job waits in Suspended until confirmed')
      .option('--force', 're-classify objects whose tags already hold current results')
      .option(
        '--from-failures',
        "the objects whose events failed every attempt (read from trigger.onFailure's S3 bucket)",
      )
      .option(
        '--priority <n>',
        'the job priority, 0–2147483647 (default: backfill.priority, else 10)',
        wholeNumber('--priority', 0, 2_147_483_647),
      )
      .addOption(
        new Option(
          '--report <scope>',
          'completion report: failed tasks only, or all (default: backfill.report)',
        ).choices(['failed', 'all']),
      )
      .option('--alias <name>', 'alias the job invokes (default: function.alias, else live)', aliasName('--alias'))
      .option('-o, --out <dir>', 'artifacts folder (as deploy/package wrote it)')
      .option('--local', 'run the tasks here, through the packaged handler in Lambda-like child processes')
      .option(
        '--concurrency <n>',
        'with --local: environments at once, 1–256 (default: the core count)',
        wholeNumber('--concurrency', 1, 256),
      )
      .option('--endpoint <url>', 'with --local: the S3 endpoint (e.g. a local S3)', httpUrl('--endpoint')),
  ).action(
    wrap((opts, args) =>
      withAbort(async () => (await import('./commands/backfill.js')).backfillCommand(io, args[0], opts)),
    ),
  );

  program
    .command('convert <in> <out>')
    .description(
      'convert a Keras .h5 (Keras 2) or .keras (Keras 3) model to TF.js (or ONNX: OUT.onnx), ' +
        'or re-quantise a TF.js layers folder',
    )
    .option('--quantize <dtype>', 'auto (per tensor, keeps every top-1), uint8 (-75%) or float16 (-50%)')
    .option('--max-diff <p>', 'largest output difference --quantize auto accepts (default 0.02)')
    .option('--calibrate <dir>', 'images to check quantisation on (default: synthetic inputs)')
    .option('--range <min,max>', 'input range of the calibration images (default 0,1)')
    .option('--channels <order>', 'rgb (default), bgr or grey')
    .option('--mean <list>', 'per-channel mean subtracted after --range')
    .option('--std <list>', 'per-channel std divided by after --mean')
    .option('--strict', 'a top-1 flip under uint8/float16 is exit 1, nothing written')
    .option('--format <format>', 'onnx or tfjs (default: onnx when OUT ends in .onnx, else a TF.js folder)')
    .action(
      wrap(async (opts, args) => (await import('./commands/convert.js')).convertCommand(io, args[0], args[1], opts)),
    );

  try {
    await program.parseAsync([...argv], { from: 'node' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.OK;
      return EXIT.BAD_INPUT; // commander already printed its one-line message
    }
    // A flag value rejected while argv is parsed (src/cli/flag-values.ts) comes before any action set `globals`.
    const fromArgv = { json: argv.includes('--json'), verbose: argv.includes('--verbose') || argv.includes('-v') };
    const early = globals === EMPTY ? fromArgv : globals;
    return reportError(error, io, early);
  }
  return exitCode;
}

/** Commander's "(Did you mean --top?)" line becomes our hint line, so its errors read as ours: error, then hint. */
const asHint = (message: string) => message.replace(/\n\(Did you mean (.+)\?\)(\n?)$/, '\nhint: did you mean $1?$2');

/** A repeatable option's parser: every value, in order (an empty one is refused). */
function collect(flag: string): (value: string, previous?: string[]) => string[] {
  return (value, previous) => {
    if (value === '') throw new LambdaMlError('input', `${flag} must not be empty`, `e.g. ${flag} .jpg`);
    return [...(previous ?? []), value];
  };
}

/** The options of every command that may talk to AWS. */
function awsOptions(command: Command): Command {
  return command
    .addOption(new Option('--region <region>', 'AWS region').argParser(regionName('--region')))
    .addOption(new Option('--profile <name>', 'AWS profile'))
    .addOption(
      new Option('--endpoint-url <url>', 'one endpoint for every AWS client (emulators)').argParser(
        httpUrl('--endpoint-url'),
      ),
    );
}

/** Ctrl-C / SIGTERM abort the work in flight so temp files are removed before exiting. */
async function withAbort<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) =>
    controller.abort(
      new LambdaMlError('input', `interrupted by ${name}; partial output was removed`, 'run the command again'),
    );
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } catch (error) {
    // fs and stream APIs reject with a generic AbortError: report the interruption itself (one line, not a "bug").
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
