// The configuration file is read once, at start: listeners, state and enforcement are built from
// it. An edit on disk (a ConfigMap update reaching the mounted directory) is checked at once and
// said in the log — refused, naming the field, or waiting for a restart — so that an operator
// who edited it is not left wondering why nothing changed. The policy file reloads by itself.
import type { Logger } from '../../../proxy/src/index.js';
import { watchFile, type FileWatch } from '../policy/reload.js';
import type { Config } from './config.js';
import { loadConfig } from './load.js';

export function watchConfigFile(file: string, running: Config, env: NodeJS.ProcessEnv, logger: Logger, onPending: (pending: boolean) => void): FileWatch {
  const before = JSON.stringify(running);
  return watchFile(file, () => {
    let next: Config;
    try {
      next = loadConfig({ file, env });
    } catch (err) {
      logger.error({ config: file, err: (err as Error).message }, 'the configuration file on disk is invalid; the running agent keeps the configuration it started with');
      onPending(false);
      return;
    }
    const pending = JSON.stringify(next) !== before;
    onPending(pending);
    if (pending) logger.warn({ config: file }, 'the configuration file changed: it takes effect at the next restart (in Kubernetes: kubectl -n altrace-system rollout restart daemonset/altrace-agent); the policy file reloads by itself');
    else logger.info({ config: file }, 'the configuration file is back to what the agent runs with');
  });
}
