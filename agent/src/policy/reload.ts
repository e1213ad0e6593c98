import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

function watchWhere(dir: string, accept: (name: string) => boolean, onChange: () => void, debounceMs: number): FileWatch {
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(dir, (_event, changed) => {
    // Kubernetes projects config maps through a `..data` symlink swap: any change in the directory may be ours.
    if (changed !== null && !accept(String(changed)) && !String(changed).startsWith('..')) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  return {
    close() {
      watcher.close();
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * Calls `onChange` (debounced) whenever `file` is written or replaced. The directory is
 * watched, not the file: editors and config-map updates replace a file by renaming a new
 * one over it, and a watch on the old inode would never fire again.
 */
export function watchFile(file: string, onChange: () => void, debounceMs = 100): FileWatch {
  const name = basename(file);
  return watchWhere(dirname(file), (changed) => changed === name, onChange, debounceMs);
}

/** Calls `onChange` (debounced) when a YAML file in `dir` is added, written, replaced or removed. */
export function watchYamlDirectory(dir: string, onChange: () => void, debounceMs = 100): FileWatch {
  return watchWhere(dir, (changed) => /\.ya?ml$/.test(changed), onChange, debounceMs);
}
