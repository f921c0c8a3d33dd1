/** The `context` Lambda's Node runtime passes the handler, built from the Lambda-like environment of a local child. */
import { randomUUID } from 'node:crypto';

/** A fresh context for one invocation whose deadline is `deadline` (ms since the epoch). */
export function lambdaContext(deadline: number) {
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: randomUUID(),
    invokedFunctionArn:
      `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:` + `function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
