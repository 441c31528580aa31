/**
 * What every inventory-driven command shares: the -i/--concurrency/--accept-new-host-keys flags, loading
 * the inventory (bad input → exit 2 before any node is touched), the SSH transport and progress.
 */
import { Flags } from '@oclif/core';
import type { Inventory } from '../inventory/load.js';
import type { RunContext } from '../services/bootstrap.js';
import { integerFlag, textFlag } from './flags.js';
import { createProgress } from './progress.js';

export const inventoryFlags = {
  inventory: textFlag({ char: 'i', description: 'inventory file (YAML or JSON)', required: true, expected: 'the path of an inventory file (YAML or JSON)' }),
  concurrency: integerFlag({ char: 'c', description: 'nodes worked on at once', default: 64, min: 1, max: 1024 }),
  'accept-new-host-keys': Flags.boolean({ description: 'trust host keys of nodes seen for the first time (never a changed key)', default: false }),
  'ssh-config': textFlag({ description: 'your ssh_config file for the connections to the nodes (default: $PODNET_SSH_CONFIG, else ssh\'s own ~/.ssh/config); never taken from an inventory', expected: 'the path of an ssh_config file', helpValue: 'FILE' }),
};

/** The ssh_config the operator chose: the flag, else PODNET_SSH_CONFIG; checked to be a readable regular file. */
async function sshConfigOf(flag: string | undefined): Promise<string | undefined> {
  const env = process.env.PODNET_SSH_CONFIG;
  const [path, label] = flag !== undefined ? [flag, '--ssh-config'] : env ? [env, 'PODNET_SSH_CONFIG'] : [undefined, ''];
  if (path === undefined) return undefined;
  const { checkInputFile } = await import('../util/files.js');
  checkInputFile(path, { label, what: 'an ssh_config file', maxBytes: 4 * 1024 * 1024 });
  return path;
}

export interface Session {
  inv: Inventory;
  ctx: RunContext;
  /** work to undo on the nodes if the run is interrupted (Ctrl-C, SIGTERM) */
  addCleanup(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

export async function openSession(flags: { inventory: string; concurrency: number; 'accept-new-host-keys': boolean; 'ssh-config'?: string }, opts: { quiet: boolean }): Promise<Session> {
  const { loadInventory } = await import('../inventory/load.js');
  const inv = loadInventory(flags.inventory);
  const sshConfig = await sshConfigOf(flags['ssh-config']);
  for (const n of inv.nodes) {
    if (flags['accept-new-host-keys']) n.ssh.acceptNewHostKeys = true;
    if (sshConfig !== undefined) n.ssh.configFile = sshConfig;
  }
  const { SshTransport, nodesThatForgetHostKeys } = await import('../transport/ssh.js');
  const forgetful = (await nodesThatForgetHostKeys(inv.nodes))[0];
  if (forgetful) {
    const { UserError } = await import('../util/errors.js');
    throw new UserError(
      `--accept-new-host-keys: the ssh settings of ${forgetful.node} keep known hosts first in ${forgetful.file}, where ssh records new keys, so every host key would count as new and a changed key would be accepted; expected a real known_hosts file first`,
      `remove UserKnownHostsFile ${forgetful.file} from your ssh_config, or add the node's key to known_hosts yourself and run without accepting new keys`,
    );
  }
  const transport = new SshTransport();
  const progress = await createProgress(inv.nodes.map((n) => n.name), opts);
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    progress.stop();
    await transport.close();
  };
  // Ctrl-C: undo what the run set up on the nodes, close the multiplexed connections, then exit.
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop waiting
    interrupted = true;
    process.stderr.write('\ninterrupted: cleaning up on the nodes …\n');
    void Promise.allSettled(cleanups.map((fn) => fn()))
      .then(close)
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    inv,
    ctx: { transport, concurrency: flags.concurrency, progress },
    addCleanup: (fn) => cleanups.push(fn),
    close: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await close();
    },
  };
}

/** Open a session, run `fn`, and always close it (progress stopped, SSH connections closed). */
export async function withSession<T>(
  flags: Parameters<typeof openSession>[0],
  opts: { quiet: boolean },
  fn: (session: Session) => Promise<T>,
): Promise<{ session: Session; result: T }> {
  const session = await openSession(flags, opts);
  try {
    return { session, result: await fn(session) };
  } finally {
    await session.close();
  }
}
