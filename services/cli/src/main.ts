#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { createLogger, isTierstreamError } from '@tierstream/runtime';
import { customerCommand } from './commands/customer-command';
import { runDemoCommand } from './commands/demo-command';
import { overrideClear, overrideSet } from './commands/override-command';
import { stackDown, stackStatus, stackUp } from './commands/stack-commands';
import { schemasRegister, topicsApply } from './commands/provision-commands';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
};

const program = new Command('tierctl').description('tierstream operations: local stack, topics, schemas, demo').showHelpAfterError();

const stack = program.command('stack').description('the Docker-less local stack: Kafka (KRaft), Apicurio Registry, Redis');
stack.command('up').description('start the stack (idempotent) and wait until healthy').action(stackUp);
stack.command('status').description('show each part, its PID and health').option('--json', 'machine-readable').action(stackStatus);
stack.command('down').description('stop exactly the processes the stack started').action(stackDown);

program
  .command('topics')
  .description('declarative topics')
  .command('apply')
  .description('create missing topics from infra/topics.yaml and report drift')
  .option('-f, --file <path>', 'topics file')
  .option('--replication-factor <n>', 'override every declared replication factor', positiveInt)
  .option('--fix', 'raise partition counts and set declared configs where they drifted')
  .action(topicsApply);

program
  .command('schemas')
  .description('Avro contracts')
  .command('register')
  .description('register each topic value schema under <topic>-value with BACKWARD compatibility')
  .option('-f, --file <path>', 'topics file')
  .action(schemasRegister);

program
  .command('customer <id>')
  .description("show a customer's tiers, score, metrics, attributes and last transitions")
  .option('--json', 'machine-readable')
  .option('--namespace <prefix>', 'the pipeline namespace (TIERSTREAM_NAMESPACE)')
  .action(customerCommand);

const override = program.command('override').description('pin a customer to a tier until a date, or clear the pin; audited in the transition stream');
override
  .command('set <customer> <dimension> <tier>')
  .description('pin the tier until --until; it then returns to the tier the rules give by itself')
  .requiredOption('--until <when>', 'end of the pin: 2027-01-31 (00:00 UTC), an ISO date-time, or +30d / +12h / +15m from now')
  .requiredOption('--reason <text>', 'why, for the audit trail')
  .option('--actor <name>', 'who sets it (default: $USER)')
  .option('--policy <file>', 'the policy scoring runs, to check dimension and tier (SCORING_POLICY_FILE)')
  .option('--namespace <prefix>', 'the pipeline namespace (TIERSTREAM_NAMESPACE)')
  .action(overrideSet);
override
  .command('clear <customer> <dimension>')
  .description('end a pin now: the tier the rules give returns')
  .requiredOption('--reason <text>', 'why, for the audit trail')
  .option('--actor <name>', 'who clears it (default: $USER)')
  .option('--policy <file>', 'the policy scoring runs (SCORING_POLICY_FILE)')
  .option('--namespace <prefix>', 'the pipeline namespace (TIERSTREAM_NAMESPACE)')
  .action(overrideClear);

program
  .command('demo')
  .description('the whole pipeline: stack, topics, schemas, the three workers, a synthetic population, tier changes')
  .option('-c, --customers <n>', 'how many synthetic customers', positiveInt, 3000)
  .option('--seed <n>', 'seed of the synthetic population', positiveInt, 7)
  .option('--follow', 'keep the workers running after the report')
  .action(runDemoCommand);

program.parseAsync(process.argv).catch((err: unknown) => {
  const logger = createLogger({ name: 'tierctl' });
  if (isTierstreamError(err)) {
    console.error(`tierctl: ${err.code}: ${err.message}`);
  } else {
    logger.error({ err }, 'tierctl failed');
  }
  process.exitCode = 1;
});
