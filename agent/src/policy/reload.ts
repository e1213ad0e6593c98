import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

/**
 * Calls `onChange` (debounced) whenever `file` is written or replaced. The directory is
 * watched, not the file: editors and config-map updates replace a file by renaming a new
 * one over it, and a watch on the old inode would never fire again.
 */
export function watchFile(file: string, onChange: () => void, debounceMs = 100): FileWatch {
  const name = basename(file);
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    // Kubernetes projects config maps through a `..data` symlink swap: any change in the directory may be ours.
    if (changed !== null && changed !== name && !String(changed).startsWith('..')) return;
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
