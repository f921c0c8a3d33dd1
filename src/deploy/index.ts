/** Deploy stage: everything that writes to AWS. */
export { deploy, ENV_DEPS_S3, ENV_DEPS_SHA256, type Deployment, type DeployOptions } from './deploy.js';
export type { DeployCall, DeployProgress, WaitOptions } from './context.js';
export { makeClients, type AwsClients, type ClientOptions } from './clients.js';
export { policy, type IamPolicy } from './policy.js';
export { describeAwsError, toAwsError } from '../remote/aws-errors.js';
export { mergeNotifications, triggerConfigurations, statementId, notificationId } from './trigger.js';
